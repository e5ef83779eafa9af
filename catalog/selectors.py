"""Read paths of the catalog, shared by views, the API and the search app."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from catalog.models import Category, Product, ProductImage


def products_with_photos(*, ids: Iterable[int] | None = None) -> QuerySet[Product]:
    """Products with their category and ordered photos loaded in three queries."""
    qs = Product.objects.select_related("category", "category__parent").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    return qs


def product_by_sku(*, sku: str) -> Product | None:
    if "\x00" in sku:  # PostgreSQL text cannot hold NUL; no SKU can contain one
        return None
    return products_with_photos().filter(sku=sku, active=True).first()


def catalog_size() -> int:
    return Product.objects.count()


def top_categories(*, limit: int = 8) -> QuerySet[Category]:
    """The shop's departments (root categories), by name."""
    return Category.objects.filter(parent__isnull=True).order_by("name")[:limit]
