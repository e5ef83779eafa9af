from __future__ import annotations

import pytest

from catalog import services

pytestmark = pytest.mark.django_db


def test_staff_can_browse_and_edit_the_catalog_in_admin(admin_client, png_bytes):
    product, _ = services.upsert_product(sku="A-1", name="Mug", category="Home/Kitchen")
    services.attach_image(product=product, content=png_bytes(), filename="p.png")
    for url in [
        "/admin/catalog/product/",
        f"/admin/catalog/product/{product.pk}/change/",
        "/admin/catalog/category/",
        "/admin/catalog/productimage/",
        "/admin/search/searchindex/",
        "/admin/search/productembedding/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get("/admin/catalog/product/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
