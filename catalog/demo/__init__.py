"""The demo catalog that `make run` loads into an empty shop.

Everything here is generated, not copied: product texts come from the phrase pools in
products.json drawn with seeded RNGs (products.py), and each photo is a small Pillow drawing
of the item type in the product's colour (drawing.py); loading.py writes them through the
catalog services. Same data and code, same catalog, byte for byte, so reloading is a no-op
and search results in demos and tests are reproducible.
"""

from catalog.demo.drawing import IMAGE_SIZE, PALETTE, render_illustration
from catalog.demo.loading import load_demo_catalog
from catalog.demo.products import PER_CATEGORY, demo_products

__all__ = [
    "IMAGE_SIZE",
    "PALETTE",
    "PER_CATEGORY",
    "demo_products",
    "load_demo_catalog",
    "render_illustration",
]
