"""Write paths of the catalog. Every product and photo write goes here: the admin, the product
API, imports and the demo loader.

- One normaliser, `clean_product_values`: what a product's values become before any write
  (trimmed text, a price to the cent, an upper-case currency), with the reason when they
  cannot be written.
- One photo path: `read_photo` checks bytes and describes them (sha256, upright size,
  extension by content) and `_store_photo_file` stores them under their content-derived name
  (`catalog.models.photo_storage_name`), whoever sends them.
- Single writes (`upsert_product`, `save_product`, `attach_image`, `save_photo`) are ORM
  saves, announced by `post_save`; the bulk write (`save_products`, for imports) writes a
  batch in a few queries and announces it once after the commit.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image

from catalog.images import PHOTO_EXTENSIONS, PhotoRejected, open_photo, sniff_format
from catalog.models import Category, Product, ProductImage, photo_storage_name
from catalog.signals import products_changed

# Photos are test-decoded at this size at most: JPEGs then decode at a reduced scale, which
# still reads the whole file (a truncated or damaged one fails) at a fraction of the cost of
# a full decode; the stored size is read from the header. Several run at once in imports.
CHECK_SIDE = 512
ORIENTATION_TAG = 0x0112  # EXIF: values 5-8 are quarter turns (width and height swap)


def announce_products_changed(*, product_ids: Iterable[int]) -> None:
    """Tell derived indexes that these products changed, once the transaction commits.

    Only for writes that bypass `post_save` (bulk_create, queryset.update)."""
    ids = sorted(set(product_ids))
    if ids:
        transaction.on_commit(lambda: products_changed.send(sender=Product, product_ids=ids))


# --- Product values ------------------------------------------------------------------------


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
    try:
        return price.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than a Decimal holds (1e30): no shop's price
        raise ValidationError({"price": f"is too large: {value!r}"}) from None


def check_attributes(attributes: Any) -> dict[str, Any]:
    """A product's attributes as they are stored: an object of name -> value, with no NUL
    character in a name or a value (PostgreSQL's jsonb cannot hold one). Raises
    ValidationError on the `attributes` field otherwise."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise ValidationError({"attributes": "must be an object of name -> value"})
    if "\\u0000" in json.dumps(attributes):
        raise ValidationError({"attributes": "contains a NUL character"})
    return attributes


def clean_product_values(
    *,
    sku: str,
    name: str,
    description: str = "",
    brand: str = "",
    price: Any = None,
    currency: str = "USD",
    attributes: dict[str, Any] | None = None,
    active: bool = True,
) -> dict[str, Any]:
    """The one normaliser of a product's own values (its category aside), used by every
    write: returns them as the product stores them, or raises ValidationError naming each
    field that cannot be written and why."""
    sku = (sku or "").strip()
    if not sku:
        raise ValidationError({"sku": "is required"})
    if not (name or "").strip():
        raise ValidationError({"name": "is required"})
    attributes = check_attributes(attributes)
    return {
        "sku": sku,
        "name": name.strip(),
        "description": (description or "").strip(),
        "brand": (brand or "").strip(),
        "price": parse_price(price),
        "currency": (currency or "USD").strip().upper()[:3],
        "attributes": attributes,
        "active": active,
    }


# --- Single writes (admin, API, demo) ------------------------------------------------------


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
    values = clean_product_values(
        sku=sku, name=name, description=description, brand=brand, price=price,
        currency=currency, attributes=attributes, active=active,
    )  # fmt: skip
    sku = values.pop("sku")
    values["category"] = category_for_path(category)
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        product = Product(sku=sku, **values)
        product.full_clean()
        product.save()
        return product, True
    changed = [f for f, v in values.items() if getattr(product, f) != v]
    if changed:
        for field_name in changed:
            setattr(product, field_name, values[field_name])
        product.full_clean()
        product.save()
    return product, False


def clean_product(*, product: Product) -> None:
    """Normalise a product edited as a whole (the admin's form) in place, by the rules of
    every write. Raises ValidationError naming the field."""
    values = clean_product_values(
        sku=product.sku, name=product.name, description=product.description,
        brand=product.brand, price=product.price, currency=product.currency,
        attributes=product.attributes, active=product.active,
    )  # fmt: skip
    for name, value in values.items():
        setattr(product, name, value)


@transaction.atomic
def save_product(*, product: Product) -> Product:
    """Save a product edited as a whole (the admin): normalised and validated like every
    other write; `post_save` announces it."""
    clean_product(product=product)
    product.full_clean()
    product.save()
    return product


def delete_products(*, skus: Iterable[str]) -> int:
    """Delete products; their photos and search vectors go with them (cascade). Returns how
    many products were deleted.

    The rows are locked first. A row that points at one of them and is being added right now
    by another process (a worker refreshing what clicks say of a product) then either
    committed before the lock, and the cascade finds and deletes it, or waits for this delete
    and fails in that process. Without the lock it could commit between the cascade's look
    and this commit, and the delete failed on the foreign key: a 500 for the admin, again on
    every retry while the worker kept rewriting its rows (found by the soak)."""
    skus = list(skus)
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(sku__in=skus).order_by("pk")
        list(locked.values_list("pk", flat=True))
        _, deleted = Product.objects.filter(sku__in=skus).delete()
    return deleted.get(Product._meta.label, 0)


def delete_product(*, sku: str) -> bool:
    """Delete a product; its photos and search vectors go with it (cascade)."""
    return delete_products(skus=[sku]) > 0


@transaction.atomic
def save_category(*, category: Category) -> Category:
    """Save a category edited by hand: its `path` follows its parent's path and its slug."""
    category.path = f"{category.parent.path}/{category.slug}" if category.parent else category.slug
    category.save()
    return category


# --- Photos --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoInput:
    """A photo, identified by the sha256 of its bytes. `content` (with its upright size and
    extension, from `read_photo`) is needed only for a photo the product does not have yet,
    so a caller that can tell a photo is already there (same checksum or same source URL)
    skips reading it."""

    checksum: str
    content: bytes | None = None
    width: int | None = None
    height: int | None = None
    extension: str = "jpg"
    source_url: str = ""
    alt: str = ""


def read_photo(content: bytes, *, source_url: str = "", alt: str = "") -> PhotoInput:
    """Check that the bytes are a photo we accept (size, type, pixels, decodable) and describe
    them for storage: sha256, upright full size (EXIF quarter turns applied, as shown), and
    the extension of what they really are. Writes nothing; raises PhotoRejected with a
    reason a person can act on."""
    try:
        open_photo(content, max_side=CHECK_SIDE)
        extension = PHOTO_EXTENSIONS.get(sniff_format(content), "jpg")
        with Image.open(io.BytesIO(content)) as probe:
            width, height = probe.size
            if probe.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8):
                width, height = height, width
    except PhotoRejected:
        raise
    except Exception as exc:  # decoded, yet its EXIF block (or a decoder on odd bytes) broke:
        # the photo is refused, never the batch or the page that sent it
        raise PhotoRejected(f"has unreadable metadata ({exc.__class__.__name__})") from None
    return PhotoInput(
        checksum=hashlib.sha256(content).hexdigest(),
        content=content,
        width=width,
        height=height,
        extension=extension,
        source_url=source_url[:2000],
        alt=alt[:300],
    )


def _store_photo_file(photo: PhotoInput) -> str:
    """Write the bytes under their content-derived name, or reuse the file already there
    (the same bytes, stored for this or another product). Returns the storage name."""
    name = photo_storage_name(checksum=photo.checksum, extension=photo.extension)
    storage = ProductImage._meta.get_field("file").storage
    if storage.exists(name):
        return name
    return storage.save(name, ContentFile(photo.content or b""))


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
    the bytes are not a decodable image, so a caller can keep the product and warn.
    `filename` is the sender's name for it: never used for storage (names are checksums)."""
    try:
        photo = read_photo(content, source_url=source_url, alt=alt)
    except PhotoRejected as exc:
        raise ValidationError(exc.reason) from None
    existing = product.images.filter(checksum=photo.checksum).first()
    if existing:
        return existing
    if position is None:
        position = product.images.count()
    image = _new_image(product=product, photo=photo, position=position)
    image.save()
    return image


def _new_image(*, product: Product, photo: PhotoInput, position: int) -> ProductImage:
    """A product's new photo row, its file stored. Built in one go: a file assigned later
    would make Django read its size back from storage, which `read_photo` knows already."""
    return ProductImage(
        product=product,
        file=_store_photo_file(photo),
        width=photo.width,
        height=photo.height,
        position=position,
        alt=photo.alt[:300],
        source_url=photo.source_url[:2000],
        checksum=photo.checksum,
    )


@transaction.atomic
def save_photo(*, image: ProductImage, photo: PhotoInput | None = None) -> ProductImage:
    """Save a product photo: with `photo` (from `read_photo`) its bytes are stored and
    described like every other photo's; without, only its position and alt text change
    (the admin's edits)."""
    if photo is not None:
        image.file = _store_photo_file(photo)
        image.checksum = photo.checksum
        image.width, image.height = photo.width, photo.height  # upright, as shown
        image.source_url = photo.source_url  # bytes sent by hand come from no URL
    image.alt = image.alt[:300]
    image.save()
    return image


@transaction.atomic
def delete_photo(*, image: ProductImage) -> None:
    """Remove a photo from its product. The file stays: files are shared by content (another
    product may show the same bytes)."""
    image.delete()


# --- Batch writes (imports) ----------------------------------------------------------------


@dataclass
class ProductInput:
    """One product as `save_products` writes it (normalised there, by `clean_product_values`).

    `photos=None` leaves the product's photos alone. With a list, missing photos are added
    in that order; with `replace_photos` the product's photos become exactly that list
    (others removed, positions in list order)."""

    sku: str
    name: str
    description: str = ""
    brand: str = ""
    price: Any = None
    currency: str = "USD"
    attributes: dict[str, Any] = field(default_factory=dict)
    category: str | Sequence[str] | None = None
    active: bool = True
    photos: list[PhotoInput] | None = None
    replace_photos: bool = True


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _category_key(path: str | Sequence[str] | None) -> tuple[str, ...]:
    if path is None:
        return ()
    names = path.split("/") if isinstance(path, str) else list(path)
    return tuple(n.strip() for n in names if n and n.strip())


@dataclass
class _PhotoChanges:
    new: list[ProductImage] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    moved: list[ProductImage] = field(default_factory=list)
    products: set[int] = field(default_factory=set)


def _plan_photos(
    product: Product, item: ProductInput, existing: list[ProductImage], changes: _PhotoChanges
) -> None:
    """What it takes to bring the product's photos in line with `item.photos`."""
    by_checksum = {image.checksum: image for image in existing}
    wanted: list[PhotoInput] = []
    seen: set[str] = set()
    for photo in item.photos or []:
        if photo.checksum not in seen:
            seen.add(photo.checksum)
            wanted.append(photo)
    next_position = max((image.position for image in existing), default=-1) + 1
    ordered: list[ProductImage] = []
    for photo in wanted:
        image = by_checksum.get(photo.checksum)
        if image is None:
            if photo.content is None:  # the caller thought we had it; nothing to store
                continue
            image = _new_image(product=product, photo=photo, position=next_position)
            next_position += 1
            changes.new.append(image)
            changes.products.add(product.pk)
        ordered.append(image)
    if not item.replace_photos:
        return
    stale = [image.pk for image in existing if image.checksum not in seen]
    if stale:
        changes.stale += stale
        changes.products.add(product.pk)
    for position, image in enumerate(ordered):
        if image.position != position:
            image.position = position
            if image.pk:
                changes.moved.append(image)
            changes.products.add(product.pk)


@transaction.atomic
def save_products(
    *,
    items: Sequence[ProductInput],
    categories: dict[tuple[str, ...], Category | None] | None = None,
) -> list[tuple[Product, Outcome]]:
    """Create or update many products (matched by SKU) and their photos in a few queries.

    The bulk writes bypass `post_save`, so what changed is announced once for the whole
    batch (`announce_products_changed`): the search index gets a few batched embedding tasks
    instead of one per product, and unchanged products are neither saved nor re-embedded.
    `categories` is a cache the caller may keep across batches. Raises ValidationError or a
    database error for the whole batch; a caller that wants row-level failures retries rows
    one by one."""
    skus = [(item.sku or "").strip() for item in items]
    if len(set(skus)) != len(skus):
        raise ValueError("save_products: each SKU at most once per batch")
    categories = {} if categories is None else categories
    existing = Product.objects.filter(sku__in=skus).in_bulk(field_name="sku")
    now = timezone.now()
    to_create: list[Product] = []
    to_update: list[Product] = []
    update_fields: set[str] = set()
    results: list[tuple[Product, Outcome]] = []
    for item in items:
        values = clean_product_values(
            sku=item.sku, name=item.name, description=item.description, brand=item.brand,
            price=item.price, currency=item.currency, attributes=item.attributes,
            active=item.active,
        )  # fmt: skip
        sku = values.pop("sku")
        key = _category_key(item.category)
        if key not in categories:
            categories[key] = category_for_path(list(key)) if key else None
        values["category_id"] = categories[key].pk if categories[key] else None
        product = existing.get(sku)
        if product is None:
            product = Product(sku=sku, created_at=now, updated_at=now, **values)
            product.full_clean(exclude=["category"], validate_unique=False)
            to_create.append(product)
            results.append((product, Outcome.CREATED))
            continue
        changed = [f for f, v in values.items() if getattr(product, f) != v]
        if changed:
            for name in changed:
                setattr(product, name, values[name])
            product.updated_at = now
            product.full_clean(exclude=["category"], validate_unique=False)
            update_fields.update("category" if f == "category_id" else f for f in changed)
            to_update.append(product)
            results.append((product, Outcome.UPDATED))
        else:
            results.append((product, Outcome.UNCHANGED))
    if to_create:
        Product.objects.bulk_create(to_create)
    if to_update:
        Product.objects.bulk_update(to_update, sorted(update_fields | {"updated_at"}))

    with_photos = [
        (p, item) for (p, _), item in zip(results, items, strict=True) if item.photos is not None
    ]
    current: dict[int, list[ProductImage]] = {p.pk: [] for p, _ in with_photos}
    if with_photos:
        for image in ProductImage.objects.filter(product_id__in=list(current)).order_by(
            "position", "id"
        ):
            current[image.product_id].append(image)
    changes = _PhotoChanges()
    for product, item in with_photos:
        _plan_photos(product, item, current[product.pk], changes)
    if changes.new:
        ProductImage.objects.bulk_create(changes.new)
    if changes.stale:
        ProductImage.objects.filter(pk__in=changes.stale).delete()
    if changes.moved:
        ProductImage.objects.bulk_update(changes.moved, ["position"])
    photos_changed = changes.products
    if photos_changed:
        now_photos = timezone.now()
        Product.objects.filter(pk__in=photos_changed).update(updated_at=now_photos)
        results = [
            (p, Outcome.UPDATED if p.pk in photos_changed and o is Outcome.UNCHANGED else o)
            for p, o in results
        ]
    announce_products_changed(product_ids=[p.pk for p, o in results if o is not Outcome.UNCHANGED])
    return results
