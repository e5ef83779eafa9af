"""A product as the search models read it: the text a shopper would read, plus its photo."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.core.files.storage import Storage, default_storage
from PIL import Image, ImageOps

from catalog.models import Product

# How much of a product's text the models read, most telling first (`document_text`): room
# for the name, brand, category, attributes and the start of the description, so that a
# long description neither drowns those out nor makes an embedding batch slow. Changing it
# changes every document hash, so every product is embedded again. The keyword leg indexes
# four times as much of the description (search.indexing.lexical).
DOCUMENT_MAX_CHARS = 2000

# Photos are shrunk before they reach the model: the processor would resize anyway, and a
# 6000px upload must not cost a worker 100 MB of pixels.
DOCUMENT_IMAGE_MAX_SIDE = 768


@dataclass(frozen=True)
class ProductDocument:
    product_id: int
    text: str
    image_name: str | None  # the primary photo's storage name, read only when a model reads images
    image_checksum: str
    # Where the photo is kept (the photo field's storage; None: Django's default storage). Read
    # through the storage API, never a local path: a worker on another host reads the same
    # photo from a shared bucket (docs/DEPLOY.md, "Workers on many hosts").
    storage: Storage | None = field(default=None, compare=False, repr=False)

    @property
    def document_hash(self) -> str:
        """Changes exactly when what the embedder would read changes."""
        digest = hashlib.sha256(self.text.encode())
        digest.update(b"\0" + self.image_checksum.encode())
        return digest.hexdigest()

    def load_image(self) -> Image.Image:
        """The photo, upright and RGB, within DOCUMENT_IMAGE_MAX_SIDE. Raises OSError or
        PIL errors for a file that cannot be decoded; callers fall back to the text."""
        storage = self.storage or default_storage
        with storage.open(self.image_name, "rb") as handle, Image.open(handle) as raw:
            image = ImageOps.exif_transpose(raw)
            image.thumbnail((DOCUMENT_IMAGE_MAX_SIDE, DOCUMENT_IMAGE_MAX_SIDE))
            return image.convert("RGB")


def _attribute_text(attributes: dict) -> str:
    parts = []
    for key, value in attributes.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value not in (None, ""):
            parts.append(f"{key}: {value}")
    return "; ".join(parts)


def document_text(product: Product) -> str:
    """Most telling first, so truncation (by the model or at DOCUMENT_MAX_CHARS) cuts the
    least useful."""
    lines = [product.name]
    if product.brand:
        lines.append(f"Brand: {product.brand}")
    if product.category_id:
        lines.append(f"Category: {product.category.full_name}")
    if product.attributes:
        lines.append(_attribute_text(product.attributes))
    if product.description:
        lines.append(product.description)
    return "\n".join(lines)[:DOCUMENT_MAX_CHARS]


def build_document(product: Product) -> ProductDocument:
    """Expects `images` and the category path loaded (catalog.selectors.products_for_documents)."""
    photo = product.primary_image
    return ProductDocument(
        product_id=product.id,
        text=document_text(product),
        image_name=photo.file.name if photo else None,
        image_checksum=photo.checksum if photo else "",
        storage=photo.file.storage if photo else None,
    )
