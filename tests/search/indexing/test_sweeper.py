"""The sweeper compares hashes per maintained index and enqueues what is stale; a task that
gave up marks its products, which /healthz and the admin count. Tasks run eagerly here
(Celery's own in-process path); the broker and a real worker are in tests/integration."""

from __future__ import annotations

import pytest
from django.conf import settings

from catalog.models import Product
from config.celery import app
from search import tasks
from search.indexing.embedding import embed_products
from search.indexing.indexes import prepare_index
from search.indexing.sweeper import (
    TASK_FAILED_PREFIX,
    failed_task_count,
    record_failed_task,
    sweep_stale_products,
)
from search.models import ProductEmbedding, SearchIndex

pytestmark = pytest.mark.django_db


def _products(n: int, prefix: str = "SW") -> list[int]:
    rows = [Product(sku=f"{prefix}-{i}", name=f"Cotton towel {i}") for i in range(n)]
    return [p.id for p in Product.objects.bulk_create(rows)]  # no signals: nothing enqueued


def _embedded(index: SearchIndex) -> set[int]:
    rows = ProductEmbedding.objects.filter(index=index).exclude(embedding=None)
    return set(rows.values_list("product_id", flat=True))


def test_before_any_index_the_sweeper_enqueues_everything_and_the_first_index_appears(eager):
    ids = _products(5)
    assert sweep_stale_products(batch_size=2) == 5
    index = SearchIndex.objects.get(active=True)
    assert _embedded(index) == set(ids)
    assert sweep_stale_products(batch_size=2) == 0


def test_missing_and_stale_products_are_found_by_hash(eager):
    ids = _products(4)
    embed_products(product_ids=ids[:3])  # the fourth one's message was "lost"
    index = SearchIndex.objects.get(active=True)
    # An edit that bypassed the signals (a raw UPDATE): its document hash changed.
    Product.objects.filter(id=ids[0]).update(name="Stoneware coffee mug")
    before = ProductEmbedding.objects.get(index=index, product_id=ids[0]).document_hash

    assert sweep_stale_products(batch_size=64) == 2
    assert _embedded(index) == set(ids)
    assert ProductEmbedding.objects.get(index=index, product_id=ids[0]).document_hash != before
    assert ProductEmbedding.objects.filter(index=index).count() == 4


def test_inactive_products_are_not_swept(eager):
    ids = _products(2)
    Product.objects.filter(id=ids[1]).update(active=False)
    assert sweep_stale_products(batch_size=64) == 1


@pytest.mark.django_db(transaction=True)  # CREATE INDEX after inserts needs a commit between
def test_each_maintained_index_is_compared_on_its_own(eager, tiny_clip):
    ids = _products(3)
    embed_products(product_ids=ids)
    active = SearchIndex.objects.get(active=True)
    building = prepare_index(model_id=str(tiny_clip), revision=None)
    assert building.state == SearchIndex.State.BUILDING
    # A retired index is not maintained: nothing is swept into it.
    retired = SearchIndex.objects.create(embedder="old", dims=8, state="retired")

    assert sweep_stale_products(batch_size=64) == 3  # stale in the building index only
    assert _embedded(building) == set(ids) and _embedded(active) == set(ids)
    assert not ProductEmbedding.objects.filter(index=retired).exists()
    assert sweep_stale_products(batch_size=64) == 0


def test_the_sweep_task_uses_the_settings_batch_size(eager, settings):
    settings.VITRINE_SWEEP_BATCH_SIZE = 3
    _products(7)
    assert tasks.sweep_stale_products.delay().get() == 7


def test_beat_runs_the_sweeper_on_the_configured_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-stale-products"]
    assert entry["task"] == "search.tasks.sweep_stale_products"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == settings.VITRINE_SWEEP_INTERVAL_S == 300
    assert entry["options"]["expires"] <= entry["schedule"]  # sweeps do not pile up


def test_a_failed_task_marks_its_products_and_the_count_shows_everywhere(admin_client):
    ids = _products(3)
    embed_products(product_ids=ids[:1])  # one had a vector already
    index = SearchIndex.objects.get(active=True)
    assert record_failed_task(product_ids=ids, index_id=None, error="OSError: disk") == 3

    rows = ProductEmbedding.objects.filter(index=index, product_id__in=ids)
    assert rows.count() == 3
    assert all(r.index_error.startswith(TASK_FAILED_PREFIX) for r in rows)
    assert all(r.document_hash == "" for r in rows)  # stale: the sweeper tries again
    kept = rows.get(product_id=ids[0])
    assert kept.embedding is not None  # search keeps the vector it had
    assert failed_task_count() == 3

    assert admin_client.get("/healthz").json()["tasks"] == {"failed": 3}
    page = admin_client.get("/admin/search/searchindex/").content.decode()
    assert "failed tasks" in page.lower()
    listing = admin_client.get("/admin/search/productembedding/", {"problem": "task"})
    assert listing.status_code == 200 and listing.content.decode().count("SW-") >= 3


def test_a_successful_embed_clears_the_failure(eager):
    ids = _products(2)
    embed_products(product_ids=ids)
    record_failed_task(product_ids=ids, index_id=None, error="TimeoutError")
    assert failed_task_count() == 2
    assert sweep_stale_products(batch_size=64) == 2
    assert failed_task_count() == 0


def test_the_embed_task_records_its_failure_when_retries_are_spent(eager):
    """Eager runs retry in-process at once; the last failure calls on_failure."""
    ids = _products(2)
    broken = SearchIndex.objects.create(
        embedder="/nonexistent/model", dims=384, modalities=["text"], active=True, state="ready"
    )
    result = tasks.embed_products.delay(ids, broken.pk)
    assert result.failed()
    assert failed_task_count() == 2
    assert ProductEmbedding.objects.filter(index=broken, embedding=None).count() == 2
