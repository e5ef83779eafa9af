"""Search degrades, it does not fail: when the active index's model cannot be loaded, or no
worker is running, the storefront and the API keep answering keyword matches and say so;
/healthz says what is down (503 with the reason)."""

from __future__ import annotations

import time

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexical
from search.models import SearchIndex

pytestmark = pytest.mark.django_db

NOTICE = "Search by meaning is unavailable right now: showing keyword matches."


@pytest.fixture
def unloadable_model_shop():
    """Products with keyword documents, and an active index whose model is not there (a
    deleted cache, a mistyped path, a hub outage): every attempt to load it fails."""
    ids = []
    for sku, name in [("TWL-1", "Plush cotton bath towel"), ("MUG-1", "Stoneware coffee mug")]:
        product, _ = catalog.upsert_product(sku=sku, name=name, price="9.90")
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    SearchIndex.objects.create(
        embedder="/nonexistent/vitrine-model", dims=384, modalities=["text"], active=True,
        state=SearchIndex.State.READY,
    )  # fmt: skip
    return ids


def test_api_answers_keyword_results_with_a_notice_when_the_model_cannot_load(
    unloadable_model_shop, client
):
    response = client.get("/api/v1/search", {"q": "bath towel"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "lexical" and body["notices"] == [NOTICE]
    assert [hit["sku"] for hit in body["results"]] == ["TWL-1"]
    assert body["model"]["embedder"] == "/nonexistent/vitrine-model"
    # Every query tries the model again (it may come back) and fails fast, not a hang.
    t = time.perf_counter()
    again = client.get("/api/v1/search", {"q": "coffee mug"})
    assert again.status_code == 200 and again.json()["mode"] == "lexical"
    assert time.perf_counter() - t < 5


def test_vector_only_search_says_the_model_is_unavailable_with_503(unloadable_model_shop, client):
    response = client.get("/api/v1/search", {"q": "bath towel", "mode": "vector"})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


def test_the_search_page_shows_keyword_results_and_the_notice(unloadable_model_shop, client):
    response = client.get("/search", {"q": "coffee mug"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-sku="MUG-1"' in html
    assert "Search by meaning is unavailable right now" in html


def test_without_a_worker_search_answers_and_healthz_is_503_saying_why(indexed_catalog, client):
    # No Celery worker runs in this test (the session worker is only started by
    # integration tests, and it answers pings under its own name only when it is up).
    from config.celery import app

    if app.control.ping(timeout=0.5):
        pytest.skip("a Celery worker of this session is running")
    health = client.get("/healthz")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "degraded"
    assert body["worker"]["ok"] is False and "worker" in body["worker"]["error"]
    assert body["database"]["ok"] and body["redis"]["ok"] and body["model"]["ok"]

    response = client.get("/api/v1/search", {"q": "bath towel"})
    assert response.status_code == 200 and response.json()["mode"] == "hybrid"
    assert response.json()["results"][0]["sku"].startswith("TWL")
