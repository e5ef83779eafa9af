"""Small catalogs written for the tests (never copied from real data)."""

from __future__ import annotations

# A shop told apart by words: sku, name, brand, category, price, color, description.
SHOP_ROWS = [
    # sku, name, brand, category, price, color, description
    ("SNK-100", "Trail running sneakers", "Stride", "Footwear/Sneakers", "89.00", "red",
     "Grippy outsole for muddy trails."),
    ("SNK-200", "Canvas low-top sneakers", "Plimsoll", "Footwear/Sneakers", "45.00", "white",
     "Everyday canvas shoes."),
    ("BOT-300", "Waterproof hiking boots", "Stride", "Footwear/Boots", "149.00", "brown",
     "Leather boots with a waterproof membrane."),
    ("PHN-015", "iPhone 15 Pro case", "Shellwise", "Electronics/Phone Cases", "29.00", "black",
     "Slim protective case with raised edges."),
    ("TWL-010", "Plush cotton bath towel", "Dunehome", "Home/Bath/Towels", "19.00", "white",
     "Thick, absorbent towel for the bathroom."),
    ("TWL-020", "Quick-dry beach towel", "Dunehome", "Home/Bath/Towels", "24.00", "blue",
     "Striped towel that dries fast after a swim."),
    ("SAW-900", "Benchtop bandsaw 9 inch", "Kerfco", "Tools/Saws", "279.00", "grey",
     "Cuts curves in hardwood."),
    ("MUG-050", "Stoneware coffee mug", "Dunehome", "Home/Kitchen/Mugs", "12.00", "red",
     "Holds 350 ml of hot coffee or tea."),
]  # fmt: skip

# Products told apart by photo only (same name): sku -> colour of a plain photo.
PHOTO_COLORS = {"RED-1": "red", "GRN-1": "green", "BLU-1": "blue", "YEL-1": "yellow"}


def load_shop_rows() -> list[int]:
    """SHOP_ROWS written through the catalog and embedded in-process with the real default
    model (no worker); their product ids."""
    from catalog import services as catalog
    from search.indexing.embedding import embed_products

    ids = []
    for sku, name, brand, category, price, color, description in SHOP_ROWS:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, brand=brand, category=category, price=price,
            attributes={"color": color}, description=description,
        )  # fmt: skip
        ids.append(product.id)
    embed_products(product_ids=ids)
    return ids
