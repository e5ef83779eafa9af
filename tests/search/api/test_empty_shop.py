"""A new shop (VITRINE_DEMO=0, nothing imported yet) through the API: every search mode
answers 200 with no results and says why; a photo the model cannot read is still a clear 400;
the first products show up at once, not after the results cache expires. A first import that
is still being embedded keeps its own answers (keywords in hybrid, 503 "being indexed" in
vector mode: tests/search/api/test_search_api.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services as catalog
from search.indexing.embedding import embed_products
from search.indexing.lexical import refresh_lexical

NO_PRODUCTS_YET = "There are no products in the shop yet."


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("q.png", content, content_type="image/png")


@pytest.mark.parametrize("mode", ["hybrid", "vector", "lexical"])
def test_every_text_mode_answers_no_results_and_says_why(db, client, mode):
    response = client.get("/api/v1/search", {"q": "coffee mug", "mode": mode})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 0 and body["results"] == [] and body["facets"] == []
    assert body["mode"] == mode
    assert body["notices"] == [NO_PRODUCTS_YET]


def test_a_filtered_search_on_an_empty_shop_answers_too(db, client):
    params = {"q": "mug", "brand": "Acme", "category": "home", "price_max": "20"}
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200 and response.json()["count"] == 0


def test_a_photo_search_on_an_empty_shop_with_a_photo_model_answers_no_results(
    db, client, settings, tiny_clip, png_bytes
):
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    for data in ({"image": upload(png_bytes("red"))}, {"image": upload(png_bytes()), "q": "red"}):
        response = client.post("/api/v1/search", data)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == 0 and body["notices"] == [NO_PRODUCTS_YET]


def test_a_photo_search_on_a_text_only_model_is_refused_even_when_the_shop_is_empty(
    db, client, png_bytes
):
    response = client.post("/api/v1/search", {"image": upload(png_bytes())})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "all-MiniLM-L6-v2" in detail and "reads text only and cannot search by photo" in detail


def test_a_photo_search_on_a_text_only_model_is_refused_while_the_first_import_is_embedded(
    db, client, png_bytes
):
    """The model's abilities are checked before the missing index: waiting would not help."""
    product, _ = catalog.upsert_product(sku="MUG-1", name="Stoneware coffee mug", price="9")
    refresh_lexical(product_ids=[product.id])
    response = client.post("/api/v1/search", {"image": upload(png_bytes()), "q": "mug"})
    assert response.status_code == 400
    assert "cannot search by photo" in response.json()["detail"]


def test_the_first_products_are_found_at_once(db, client):
    assert client.get("/api/v1/search", {"q": "coffee mug"}).json()["count"] == 0
    product, _ = catalog.upsert_product(sku="MUG-1", name="Stoneware coffee mug", price="9")
    embed_products(product_ids=[product.id])
    body = client.get("/api/v1/search", {"q": "coffee mug"}).json()
    assert [hit["sku"] for hit in body["results"]] == ["MUG-1"]
    assert NO_PRODUCTS_YET not in body["notices"]


def test_a_shop_whose_products_were_all_taken_down_finds_nothing_without_an_error(db, client):
    product, _ = catalog.upsert_product(sku="MUG-1", name="Stoneware coffee mug", price="9")
    embed_products(product_ids=[product.id])
    catalog.upsert_product(sku="MUG-1", name="Stoneware coffee mug", price="9", active=False)
    for mode in ("hybrid", "vector", "lexical"):
        response = client.get("/api/v1/search", {"q": "coffee mug", "mode": mode})
        assert response.status_code == 200 and response.json()["count"] == 0
