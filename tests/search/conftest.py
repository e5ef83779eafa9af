from __future__ import annotations

import pytest

from catalog import services as catalog
from search.indexing.embedding import embed_products
from tests.support.catalogs import PHOTO_COLORS, load_shop_rows

SMALL_CATALOG = [
    (
        "TWL-1",
        "Plush cotton bath towel",
        "Home/Bath/Towels",
        "Thick, absorbent towel for the bathroom.",
    ),
    (
        "TWL-2",
        "Quick-dry beach towel",
        "Home/Bath/Towels",
        "Striped towel that dries fast after a swim.",
    ),
    ("SAW-1", "Benchtop bandsaw 9 inch", "Tools/Power Tools/Saws", "Cuts curves in hardwood."),
    ("SAW-2", "Portable band saw", "Tools/Power Tools/Saws", "Cordless metal-cutting band saw."),
    ("MUG-1", "Stoneware coffee mug", "Home/Kitchen/Mugs", "Holds 350 ml of hot coffee or tea."),
    ("MUG-2", "Enamel camping mug", "Home/Kitchen/Mugs", "Light steel mug for the campfire."),
    (
        "SHO-1",
        "Trail running sneakers",
        "Footwear/Sneakers",
        "Lightweight shoes with grippy soles.",
    ),
    ("LMP-1", "LED desk lamp", "Home/Lighting/Lamps", "Dimmable lamp with a flexible arm."),
]


@pytest.fixture
def indexed_catalog(db, png_bytes):
    """A small catalog embedded in-process with the real default model (no worker)."""
    ids = []
    for sku, name, category, description in SMALL_CATALOG:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, description=description, category=category, price="12.50"
        )
        if not sku.startswith("LMP"):  # one product without a photo
            catalog.attach_image(product=product, content=png_bytes("blue"), filename="p.png")
        ids.append(product.id)
    embed_products(product_ids=ids)
    return ids


@pytest.fixture
def shop(db):
    """SHOP_ROWS embedded in-process with the real default model."""
    return load_shop_rows()


@pytest.fixture
def photo_catalog(db, settings, tiny_clip, png_bytes):
    """Products told apart by photo only; the product vector is the photo's (weight 1)."""
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    settings.VITRINE_IMAGE_WEIGHT = 1.0
    ids = []
    for sku, color in PHOTO_COLORS.items():
        product, _ = catalog.upsert_product(sku=sku, name="Plain cotton t-shirt", price="10")
        catalog.attach_image(product=product, content=png_bytes(color, (48, 48)), filename="t.png")
        ids.append(product.id)
    embed_products(product_ids=ids)
    return ids
