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
