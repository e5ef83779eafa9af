"""A small catalog indexed with a tiny text embedder, for adaptations that take seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import services as catalog
from search.indexing import indexes
from search.indexing.embedding import embed_products

# Two products per category, so every pseudo-query has a same-category hard negative.
CATALOG = [
    ("TWL-1", "Plush cotton bath towel", "Acme", "Home/Bath/Towels", "white", "Soft towel."),
    ("TWL-2", "Quick dry beach towel", "Sunny", "Home/Bath/Towels", "blue", "Dries fast."),
    ("SAW-1", "Benchtop band saw", "Cutter", "Tools/Saws", "red", "Cuts curves for hobby use."),
    ("SAW-2", "Portable band saw", "Cutter", "Tools/Saws", "black", "Cordless steel saw."),
    ("MUG-1", "Stoneware coffee mug", "Potter", "Home/Kitchen/Mugs", "white", "Holds coffee."),
    ("MUG-2", "Enamel camping mug", "Trail", "Home/Kitchen/Mugs", "green", "Mug for camping."),
    ("SHO-1", "Trail running sneaker", "Stride", "Shoes/Sneakers", "red", "Light running shoe."),
    ("SHO-2", "Canvas court sneaker", "Stride", "Shoes/Sneakers", "white", "Classic shoe."),
    ("LMP-1", "LED desk lamp", "Glow", "Home/Lighting/Lamps", "black", "Light for the desk."),
    ("LMP-2", "Brass floor lamp", "Glow", "Home/Lighting/Lamps", "green", "Warm light lamp."),
]  # fmt: skip


@pytest.fixture
def tiny_text_embedder(model_dir) -> Path:
    from tests.support.tiny_models import build_tiny_text_embedder

    path = model_dir / "tiny-text-embedder"
    return path if (path / "modules.json").exists() else build_tiny_text_embedder(path)


@pytest.fixture
def shop_on_tiny_model(db, settings, tmp_path, tiny_text_embedder, tiny_cross_encoder):
    """The catalog above, indexed (and active) with the tiny text embedder; adapted models
    go to tmp_path; the reranker starts from the tiny cross-encoder."""
    settings.VITRINE_EMBEDDER = str(tiny_text_embedder)
    settings.VITRINE_ADAPT_MODEL_DIR = tmp_path / "models"
    settings.VITRINE_ADAPT_RERANKER_BASE = str(tiny_cross_encoder)
    ids = []
    for sku, name, brand, category, color, description in CATALOG:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, brand=brand, category=category, description=description,
            attributes={"color": color}, price="10.00",
        )  # fmt: skip
        ids.append(product.id)
    embed_products(product_ids=ids)
    queries = tmp_path / "queries.tsv"
    queries.write_text("qid\tquery\nq1\tbath towel\nq2\tcamping mug\nq3\tred sneaker\n")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q1\tTWL-1\t3\nq1\tTWL-2\t3\nq2\tMUG-2\t3\nq3\tSHO-1\t3\n")
    return {"queries": queries, "qrels": qrels, "active": indexes.active_index()}
