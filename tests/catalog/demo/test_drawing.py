from __future__ import annotations

import io

from PIL import Image

from catalog.demo import demo_products, render_illustration


def test_illustrations_are_deterministic_pngs_that_differ_by_product():
    first, second = demo_products()[:2]
    png = render_illustration(first)
    assert png == render_illustration(first)
    assert png != render_illustration(second)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (320, 320)
        # Something is drawn in the product's colour, not just a blank background.
        assert len(image.getcolors(maxcolors=100_000) or []) > 20
