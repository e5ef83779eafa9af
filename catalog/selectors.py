"""Read paths of the catalog, shared by views, the API and the search app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, QuerySet

from catalog.models import Category, Product, ProductImage, product_url


@dataclass(frozen=True)
class ProductCard:
    """What a list of results shows of a product: no model instances, no related objects."""

    id: int
    sku: str
    name: str
    price: Decimal | None
    currency: str
    photo: str | None  # the stored name of its first photo

    @property
    def url(self) -> str:
        return product_url(self.sku)

    @property
    def photo_url(self) -> str | None:
        if not self.photo:
            return None
        return ProductImage._meta.get_field("file").storage.url(self.photo)


_PRODUCT_CARDS_SQL = """
SELECT p.id, p.sku, p.name, p.price, p.currency,
       (SELECT i.file FROM catalog_productimage i
        WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)
FROM catalog_product p
WHERE p.id = ANY(%s)
"""


def product_cards(*, ids: Iterable[int]) -> dict[int, ProductCard]:
    """id -> card for these products, in one query (a search page: 20 products). Plain SQL:
    model instances with their categories and photos cost ~3 ms of a ~30 ms search, and
    the ORM's building of this same statement still ~0.5 ms more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCT_CARDS_SQL, [list(ids)])
        return {row[0]: ProductCard(*row) for row in cursor.fetchall()}


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
