"""An embedding task stores each encoded chunk while the next one encodes (on a writer thread
with its own connection), and is done only when everything it encoded is stored: a task that
returns is a task whose products search can find, and one whose write fails is retried."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError

from catalog.models import Product
from search.indexing import embedding
from search.models import LexicalDocument, ProductEmbedding

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mugs(no_embedding_queue) -> list[int]:
    rows = [
        Product(sku=f"MUG-{i}", name=f"Stoneware coffee mug {'with a wide handle ' * i}")
        for i in range(5)
    ]
    return [p.id for p in Product.objects.bulk_create(rows)]


@pytest.fixture
def writes_seen(monkeypatch) -> list[tuple[str, list[int]]]:
    """(thread name, product ids) of every chunk stored, in order."""
    seen: list[tuple[str, list[int]]] = []
    store = embedding._store_vectors

    def spy(**kwargs):
        seen.append((threading.current_thread().name, [d.product_id for d in kwargs["documents"]]))
        return store(**kwargs)

    monkeypatch.setattr(embedding, "_store_vectors", spy)
    return seen


def test_every_chunk_is_stored_by_the_writer_before_the_task_returns(mugs, writes_seen, settings):
    settings.VITRINE_EMBED_BATCH_SIZE = 2

    report = embedding.embed_products(product_ids=mugs)
    assert [len(c) for c in embedding._chunks(list(range(64)), 32)] == [32, 16, 16]

    assert report.embedded == 5 and report.flagged == 0
    stored = ProductEmbedding.objects.filter(product_id__in=mugs, embedding__isnull=False)
    assert sorted(stored.values_list("product_id", flat=True)) == sorted(mugs)
    assert LexicalDocument.objects.filter(product_id__in=mugs).count() == 5
    # Chunks of like lengths (shortest names first), the last halved (its store is the one
    # left to wait for), each stored off this thread.
    assert [len(ids) for _, ids in writes_seen] == [2, 2, 1]
    assert [pid for _, ids in writes_seen for pid in ids] == mugs
    assert {name for name, _ in writes_seen} != {threading.current_thread().name}
    assert all(name.startswith("vitrine-embed-writes") for name, _ in writes_seen)


def test_a_failed_write_fails_the_task_once_no_write_is_running(mugs, monkeypatch, settings):
    settings.VITRINE_EMBED_BATCH_SIZE = 2
    store = embedding._store_vectors
    calls = []

    def second_write_fails(**kwargs):
        calls.append(kwargs["documents"])
        if len(calls) == 2:
            raise OperationalError("the database went away mid-task")
        return store(**kwargs)

    monkeypatch.setattr(embedding, "_store_vectors", second_write_fails)

    with pytest.raises(OperationalError, match="went away"):
        embedding.embed_products(product_ids=mugs)  # Celery retries the whole task

    # What was stored before the failure is there; nothing writes after the task failed.
    stored = set(ProductEmbedding.objects.values_list("product_id", flat=True))
    assert stored == {d.product_id for d in calls[0]}
    assert len(calls) == 2

    monkeypatch.setattr(embedding, "_store_vectors", store)
    assert embedding.embed_products(product_ids=mugs).embedded == 3  # the retry: the rest


def test_inside_a_transaction_the_writes_run_in_line_and_see_its_rows(
    no_embedding_queue, writes_seen
):
    """The caller's uncommitted products are invisible to any other connection."""
    from django.db import transaction

    with transaction.atomic():
        ids = [p.id for p in Product.objects.bulk_create([Product(sku="TWL-1", name="Towel")])]
        report = embedding.embed_products(product_ids=ids)
        assert report.embedded == 1
        assert ProductEmbedding.objects.filter(product_id__in=ids).exists()
    assert [name for name, _ in writes_seen] == [threading.current_thread().name]
