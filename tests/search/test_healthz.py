"""Liveness (/livez) and readiness (/healthz) as a probe sees them: an empty shop is ready
(its index reported "empty", not failed); only a dependency that is down makes /healthz 503."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from search.indexing.embedding import embed_products


def test_healthz_is_503_without_a_worker_and_says_why(db, client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["worker"]["ok"] is False and "worker" in body["worker"]["error"]
    assert body["model"]["ok"] is True and "no search index yet" in body["model"]["note"]
    assert body["index"] == {
        "active_model": None,
        "state": "empty",
        "products": 0,
        "indexed": 0,
        "pending": 0,
        "failed": 0,
    }


def test_livez_answers_while_a_dependency_is_down_and_healthz_names_it(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    live = client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert "no-cache" in live["Cache-Control"]
    ready = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["redis"]["ok"] is False and ready.json()["status"] == "degraded"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_empty_shop_is_ready_and_says_its_index_is_empty(celery_worker, client):
    """VITRINE_DEMO=0, no products yet: a readiness probe must let the web serve, or nobody
    could reach the admin to make the first import."""
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["worker"]["ok"]
    assert body["index"]["state"] == "empty" and body["index"]["products"] == 0
    assert client.get("/livez").status_code == 200


def test_healthz_reports_a_catalog_being_indexed_then_ready(db, client):
    """No worker here (and nothing committed, so nothing is queued): the counts move only by
    the embeddings made below. The state is reported whatever the verdict on the worker."""
    product, _ = catalog.upsert_product(sku="H-1", name="Bath towel")
    pending, _ = catalog.upsert_product(sku="H-2", name="Beach towel")
    assert client.get("/healthz").json()["index"]["state"] == "building"  # no index at all yet

    embed_products(product_ids=[product.id])
    index = client.get("/healthz").json()["index"]
    assert (index["state"], index["indexed"], index["pending"]) == ("building", 1, 1)

    embed_products(product_ids=[pending.id])
    index = client.get("/healthz").json()["index"]
    assert (index["state"], index["products"], index["indexed"]) == ("ready", 2, 2)
    assert index["active_model"] == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_when_everything_is_up(celery_worker, client):
    product, _ = catalog.upsert_product(sku="H-1", name="Bath towel")
    embed_products(product_ids=[product.id])
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["index"]["products"] == 1 and body["index"]["indexed"] == 1
    assert body["index"]["state"] == "ready"
