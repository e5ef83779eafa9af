from __future__ import annotations

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexical


def test_search_returns_results_with_the_documented_fields(indexed_catalog, client):
    response = client.get("/api/v1/search", {"q": "coffee mug", "page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert [hit["sku"] for hit in body["results"]][0].startswith("MUG")
    assert set(body["results"][0]) >= {"sku", "name", "price", "url", "image", "score"}
    # The two mugs match; the other products of the catalog are no "coffee mug".
    assert body["count"] == 2 and body["page"] == 1 and body["page_size"] == 2
    assert body["model"]["modalities"] == ["text"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "   \t "},
        {},
        {"q": "mug", "page": "0"},
        {"q": "mug", "page": "-3"},
        {"q": "mug", "page": "abc"},
        {"q": "mug", "page_size": "100000"},
        {"q": "mug", "rerank": "maybe"},
    ],
)
def test_bad_parameters_get_a_clear_400(indexed_catalog, client, params):
    response = client.get("/api/v1/search", params)
    assert response.status_code == 400
    assert response.json()  # says which field and why


@pytest.mark.parametrize(
    "q",
    [
        "x" * 20_000,
        "mug\x00cup",
        "'; DROP TABLE catalog_product; --",
        "<script>alert(1)</script>",
        "🧖‍♀️ منشفة حمام",
        "../../etc/passwd",
    ],
)
def test_odd_queries_answer_200(indexed_catalog, client, q):
    response = client.get("/api/v1/search", {"q": q})
    assert response.status_code == 200
    body = response.json()
    assert body["query_truncated"] is (len(q) > 500)
    assert len(body["results"]) > 0


def test_page_beyond_the_end_is_empty_not_an_error(indexed_catalog, client):
    body = client.get("/api/v1/search", {"q": "mug", "page": 50}).json()
    assert body["results"] == [] and body["count"] == 2  # the two mugs, on page 1


@pytest.fixture
def imported_not_embedded(db):
    """A first import that a worker is embedding: keyword documents are written (the task's
    first step), no vector yet, so there is no index."""
    product, _ = catalog.upsert_product(sku="MUG-1", name="Stoneware coffee mug", price="9")
    refresh_lexical(product_ids=[product.id])


def test_vector_search_before_indexing_is_a_503_with_a_reason(imported_not_embedded, client):
    response = client.get("/api/v1/search", {"q": "mug", "mode": "vector"})
    assert response.status_code == 503
    assert "being indexed" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_hybrid_search_before_indexing_answers_with_keywords_and_says_so(
    imported_not_embedded, client
):
    response = client.get("/api/v1/search", {"q": "mug"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "lexical" and "keyword" in body["notices"][0]
    assert [hit["sku"] for hit in body["results"]] == ["MUG-1"]


def test_openapi_schema_and_docs_are_served(db, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/search" in schema.json()["paths"]
    assert client.get("/api/docs/").status_code == 200
