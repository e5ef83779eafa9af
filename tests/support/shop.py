"""A small catalog committed and embedded once per test module, for modules that send many
read-only requests (hostile input, schema fuzzing): each test still runs in its own rolled-back
transaction on top of it, and the module removes it when done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def committed_small_catalog(django_db_blocker) -> Iterator[list[int]]:
    from catalog import services as catalog
    from catalog.models import Category, Product
    from search.indexing.embedding import embed_products
    from search.models import SearchIndex
    from tests.search.conftest import SMALL_CATALOG

    with django_db_blocker.unblock():
        ids = []
        for sku, name, category, description in SMALL_CATALOG:
            product, _ = catalog.upsert_product(
                sku=sku, name=name, description=description, category=category, price="12.50"
            )
            ids.append(product.id)
        embed_products(product_ids=ids)
    try:
        yield ids
    finally:
        with django_db_blocker.unblock():
            Product.objects.filter(id__in=ids).delete()
            SearchIndex.objects.all().delete()
            for category in Category.objects.order_by("-path"):  # children first
                if not category.products.exists() and not category.children.exists():
                    category.delete()
