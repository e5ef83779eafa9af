"""Writing the demo catalog into the shop, through the catalog services like any other write."""

from __future__ import annotations

from django.db import transaction
from tqdm import tqdm

from catalog.demo.drawing import render_illustration
from catalog.demo.products import demo_products
from catalog.services import attach_image, upsert_product

# Products per transaction (each announces its products; an embedding task holds up to
# VITRINE_EMBED_TASK_SIZE of them).
_BATCH = 64

# The keys of a demo product that `upsert_product` accepts; "illustration" is ours only.
_PRODUCT_KEYS = (
    "sku",
    "name",
    "description",
    "brand",
    "price",
    "currency",
    "attributes",
    "category",
)


def load_demo_catalog(*, limit: int | None = None, progress: bool = False) -> int:
    """Write the demo products (the first `limit` of them) through the catalog services and
    return how many were written. Idempotent by SKU: unchanged products are not saved
    again, and a product that already has a photo does not get another drawing."""
    products = demo_products()
    if limit is not None:
        products = products[: max(limit, 0)]
    written = 0
    # disable=None lets tqdm hide itself when stderr is not a terminal (logs, CI).
    bar = tqdm(
        total=len(products), desc="demo catalog", unit="product", disable=None if progress else True
    )
    # Batches of products per transaction: the search index is told once per batch (its
    # embedding tasks come batched), and an interrupted load leaves whole products behind,
    # never a product without its photo.
    for start in range(0, len(products), _BATCH):
        with transaction.atomic():
            for item in products[start : start + _BATCH]:
                product, _created = upsert_product(**{key: item[key] for key in _PRODUCT_KEYS})
                if not product.images.exists():
                    attach_image(
                        product=product,
                        content=render_illustration(item),
                        filename=f"{item['sku']}.png",
                        alt=item["name"],
                    )
                written += 1
                bar.update(1)
    bar.close()
    return written
