from __future__ import annotations

import pytest


def test_healthz_is_503_without_a_worker_or_index_and_says_why(db, client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["worker"]["ok"] is False and "worker" in body["worker"]["error"]
    assert body["model"]["ok"] is False
    assert body["index"] == {
        "active_model": None,
        "products": 0,
        "indexed": 0,
        "pending": 0,
        "failed": 0,
    }


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_when_everything_is_up(celery_worker, client):
    from catalog import services as catalog
    from search.indexing.embedding import embed_products

    product, _ = catalog.upsert_product(sku="H-1", name="Bath towel")
    embed_products(product_ids=[product.id])
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["index"]["products"] == 1 and body["index"]["indexed"] == 1
    assert body["index"]["active_model"] == "sentence-transformers/all-MiniLM-L6-v2"
