"""Write paths of the catalog. Every caller (admin, API, importers, demo loader) goes here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image

from catalog.images import PhotoRejected, open_photo
from catalog.models import Category, Product, ProductImage
from catalog.signals import products_changed

PRODUCT_FIELDS = ("name", "description", "brand", "price", "currency", "attributes", "active")


def announce_products_changed(*, product_ids: Iterable[int]) -> None:
    """Tell derived indexes that these products changed, once the transaction commits.

    Only for writes that bypass `post_save` (bulk_create, queryset.update)."""
    ids = sorted(set(product_ids))
    if ids:
        transaction.on_commit(lambda: products_changed.send(sender=Product, product_ids=ids))


def category_for_path(path: str | Sequence[str] | None) -> Category | None:
    """The category at "Home/Kitchen/Mugs" (or ["Home", "Kitchen", "Mugs"]), created with
    its missing ancestors. Empty -> None."""
    if path is None:
        return None
    names = path.split("/") if isinstance(path, str) else list(path)
    names = [n.strip() for n in names if n and n.strip()]
    parent: Category | None = None
    for name in names:
        slug = slugify(name)[:200] or hashlib.sha1(name.encode()).hexdigest()[:12]
        full_path = f"{parent.path}/{slug}" if parent else slug
        parent, _ = Category.objects.get_or_create(
            path=full_path, defaults={"name": name[:200], "slug": slug, "parent": parent}
        )
    return parent


def parse_price(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({"price": f"not a number: {value!r}"}) from None
    if not price.is_finite() or price < 0:
        raise ValidationError({"price": f"must be a non-negative number: {value!r}"})
    return price.quantize(Decimal("0.01"))


@transaction.atomic
def upsert_product(
    *,
    sku: str,
    name: str,
    description: str = "",
    brand: str = "",
    price: Any = None,
    currency: str = "USD",
    attributes: dict[str, Any] | None = None,
    category: str | Sequence[str] | None = None,
    active: bool = True,
) -> tuple[Product, bool]:
    """Create or update the product with this SKU. Returns (product, created).

    Unchanged products are not saved again, so they are not re-embedded either."""
    sku = (sku or "").strip()
    if not sku:
        raise ValidationError({"sku": "is required"})
    if not (name or "").strip():
        raise ValidationError({"name": "is required"})
    if attributes is not None and not isinstance(attributes, dict):
        raise ValidationError({"attributes": "must be an object of name -> value"})
    values = {
        "name": name.strip(),
        "description": (description or "").strip(),
        "brand": (brand or "").strip(),
        "price": parse_price(price),
        "currency": (currency or "USD").strip().upper()[:3],
        "attributes": attributes or {},
        "active": active,
        "category": category_for_path(category),
    }
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        product = Product(sku=sku, **values)
        product.full_clean()
        product.save()
        return product, True
    changed = [f for f, v in values.items() if getattr(product, f) != v]
    if changed:
        for field in changed:
            setattr(product, field, values[field])
        product.full_clean()
        product.save()
    return product, False


def read_image(content: bytes) -> Image.Image:
    """Decode and check a photo; raise ValidationError with a reason a person can act on."""
    try:
        return open_photo(content)
    except PhotoRejected as exc:
        raise ValidationError(exc.reason) from None


@transaction.atomic
def attach_image(
    *,
    product: Product,
    content: bytes,
    filename: str = "photo.jpg",
    alt: str = "",
    position: int | None = None,
    source_url: str = "",
) -> ProductImage:
    """Store a photo for a product (deduplicated by content). Raises ValidationError when
    the bytes are not a decodable image, so a caller can keep the product and warn."""
    decoded = read_image(content)
    checksum = hashlib.sha256(content).hexdigest()
    existing = product.images.filter(checksum=checksum).first()
    if existing:
        return existing
    if position is None:
        position = product.images.count()
    image = ProductImage(
        product=product,
        position=position,
        alt=alt[:300],
        source_url=source_url,
        checksum=checksum,
    )
    image.file.save(filename, ContentFile(content), save=False)
    image.width, image.height = decoded.size  # known already; no second decode from storage
    image.save()
    return image


@transaction.atomic
def delete_product(*, sku: str) -> bool:
    """Delete a product; its photos and search vectors go with it (cascade)."""
    deleted, _ = Product.objects.filter(sku=sku).delete()
    return deleted > 0
