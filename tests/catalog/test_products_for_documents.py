"""What a search document is built from: a product, its ordered photos and its category's
whole path, read in three queries however deep the tree (the sweeper reads every product)."""

from __future__ import annotations

import pytest

from catalog import services
from catalog.models import Product
from catalog.selectors import products_for_documents
from search.documents import build_document

pytestmark = pytest.mark.django_db


def test_documents_name_every_level_of_a_deep_category_in_three_queries(
    png_bytes, django_assert_num_queries
):
    path = [f"Level {i}" for i in range(12)]  # deeper than any join chain would reach
    deep, _ = services.upsert_product(sku="D-1", name="Deep thing", category=path)
    services.attach_image(product=deep, content=png_bytes("red"), filename="a.png")
    services.attach_image(product=deep, content=png_bytes("blue"), filename="b.png")
    flat, _ = services.upsert_product(sku="F-1", name="Flat thing", category="Home")
    bare, _ = services.upsert_product(sku="B-1", name="No category")

    with django_assert_num_queries(3):
        documents = {
            p.id: build_document(p) for p in products_for_documents(ids=[deep.id, flat.id, bare.id])
        }

    assert " / ".join(path) in documents[deep.id].text
    # The same documents as from products read one by one (each level a query of its own).
    for product in Product.objects.filter(id__in=[deep.id, flat.id, bare.id]):
        assert build_document(product) == documents[product.id]
