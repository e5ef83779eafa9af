from __future__ import annotations

import pytest


def test_search_page_shows_photo_name_and_price(indexed_catalog, client):
    html = client.get("/search", {"q": "bath towel"}).content.decode()
    assert 'data-sku="TWL-1"' in html and "Plush cotton bath towel" in html
    assert "12.50" in html and "/media/products/" in html


@pytest.mark.parametrize("q", ["", "   ", "x" * 20_000, "<script>alert(1)</script>", "a\x00b"])
def test_odd_queries_never_500(indexed_catalog, client, q):
    response = client.get("/search", {"q": q})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999"])
def test_bad_page_numbers_get_a_clear_400(indexed_catalog, client, page):
    response = client.get("/search", {"q": "mug", "page": page})
    assert response.status_code == 400


@pytest.mark.parametrize("sku", ["AB/12", "50% off?", "Ärmel #3"])
def test_a_product_with_an_odd_sku_is_found_and_its_page_opens(db, client, sku):
    from catalog.models import Product
    from search.indexing.embedding import embed_products

    # Saved as the rows of an older import were: no validation refuses the slash then.
    product = Product.objects.create(sku=sku, name="Striped linen beach towel", price="19.00")
    embed_products(product_ids=[product.id])
    html = client.get("/search", {"q": "beach towel"}).content.decode()
    assert "Striped linen beach towel" in html
    hit = client.get("/api/v1/search", {"q": "beach towel"}).json()["results"][0]
    page = client.get(hit["url"])
    assert page.status_code == 200 and "Striped linen beach towel" in page.content.decode()
