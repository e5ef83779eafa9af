"""The whole write path for real: catalog rows -> on_commit -> Redis -> Celery worker ->
MiniLM -> pgvector -> the JSON API finds them by meaning."""

from __future__ import annotations

import time

import pytest

from catalog import services as catalog
from search.models import ProductEmbedding

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PRODUCTS = [
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
        "Large striped towel that dries fast after a swim.",
    ),
    (
        "SAW-1",
        "Benchtop bandsaw 9 inch",
        "Tools/Power Tools/Saws",
        "Cuts curves in hardwood and plywood.",
    ),
    (
        "SAW-2",
        "Portable band saw",
        "Tools/Power Tools/Saws",
        "Cordless metal-cutting band saw for pipes.",
    ),
    ("MUG-1", "Stoneware coffee mug", "Home/Kitchen/Mugs", "Holds 350 ml of hot coffee or tea."),
    (
        "SHO-1",
        "Trail running sneakers",
        "Footwear/Sneakers",
        "Lightweight shoes with grippy soles.",
    ),
]


def wait_until(predicate, timeout: float = 90, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_saved_products_are_embedded_by_the_worker_and_found_by_meaning(
    celery_worker, client, png_bytes
):
    for sku, name, category, description in PRODUCTS:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, description=description, category=category, price="19.90"
        )
        catalog.attach_image(product=product, content=png_bytes("white"), filename="p.png")

    assert wait_until(
        lambda: ProductEmbedding.objects.exclude(embedding=None).count() == len(PRODUCTS)
    )

    response = client.get("/api/v1/search", {"q": "bath towel", "page_size": 3})
    assert response.status_code == 200
    body = response.json()
    top = [hit["sku"] for hit in body["results"]]
    assert set(top[:2]) == {"TWL-1", "TWL-2"}, top
    assert not {"SAW-1", "SAW-2"} & set(top[:2])
    first = body["results"][0]
    assert (
        first["price"] == 19.9
        and first["image"].endswith(".png")
        and first["url"] == f"/products/{first['sku']}/"
    )
    assert body["model"]["embedder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert set(body["timings_ms"]) >= {"encode", "retrieve", "rerank", "total"}


def test_editing_a_product_re_embeds_it_and_search_follows(celery_worker, client):
    product, _ = catalog.upsert_product(
        sku="X-1", name="Ceramic coffee mug", category="Home/Kitchen/Mugs"
    )
    catalog.upsert_product(sku="X-2", name="Cordless band saw", category="Tools/Saws")
    assert wait_until(lambda: ProductEmbedding.objects.exclude(embedding=None).count() == 2)
    first_hash = ProductEmbedding.objects.get(product=product).document_hash

    catalog.upsert_product(sku="X-1", name="Cordless drill driver", category="Tools/Drills")
    assert wait_until(
        lambda: ProductEmbedding.objects.get(product=product).document_hash != first_hash
    )

    top = client.get("/api/v1/search", {"q": "power drill"}).json()["results"][0]
    assert top["sku"] == "X-1"
    assert ProductEmbedding.objects.filter(product=product).count() == 1  # upserted, not duplicated
