"""A multimodal reranker (Qwen3-VL-Reranker shape: any-to-any + LogitScore) reads each
candidate as the same text+photo document the embedder read, through CrossEncoder.rank."""

from __future__ import annotations

import pytest
from PIL import Image
from sentence_transformers import CrossEncoder

from catalog import services as catalog
from catalog.selectors import products_with_photos
from search.documents import build_document
from search.indexing.embedding import embed_products
from search.inference.loading import get_reranker
from search.query import SearchRequest
from search.services import search_products

# Scores of the seeded tiny reranker for fixed inputs, on CPU in float32. They move when the
# dtype, the pixel bounds or the prompt template change: a change here must be deliberate.
GOLDEN = [
    (("red mug", "Red stoneware mug"), 0.5574636459350586),
    (("red mug", {"text": "Red stoneware mug", "image": ("red", (64, 64))}), 0.5575507283210754),
    (("red mug", ("red", (64, 64))), 0.5571324825286865),
]


def _materialise(item):
    if isinstance(item, tuple):
        return Image.new("RGB", item[1], item[0])
    if isinstance(item, dict):
        return {**item, "image": _materialise(item["image"])}
    return item


def test_tiny_reranker_golden_scores(tiny_vlm_reranker):
    model = CrossEncoder(str(tiny_vlm_reranker), device="cpu")
    pairs = [(query, _materialise(doc)) for (query, doc), _ in GOLDEN]
    scores = model.predict(pairs).tolist()
    assert scores == pytest.approx([score for _, score in GOLDEN], abs=1e-6)


def test_pixel_bounds_change_reranker_scores_so_they_are_pinned(tiny_vlm_reranker):
    photo = {"text": "Red stoneware mug", "image": Image.new("RGB", (256, 256), "red")}
    small = CrossEncoder(
        str(tiny_vlm_reranker),
        device="cpu",
        processor_kwargs={"size": {"shortest_edge": 32 * 32, "longest_edge": 32 * 32}},
    )
    large = CrossEncoder(
        str(tiny_vlm_reranker),
        device="cpu",
        processor_kwargs={"size": {"shortest_edge": 64 * 64, "longest_edge": 64 * 64}},
    )
    assert small.predict([("red mug", photo)])[0] != pytest.approx(
        large.predict([("red mug", photo)])[0], abs=1e-7
    )


@pytest.fixture
def photo_shop(db, settings, tiny_vlm_embedder, png_bytes):
    settings.VITRINE_EMBEDDER = str(tiny_vlm_embedder)
    ids = []
    for i, color in enumerate(["red", "green", "blue", "yellow", "purple", "orange"]):
        product, _ = catalog.upsert_product(sku=f"MUG-{i}", name=f"{color.title()} mug")
        catalog.attach_image(product=product, content=png_bytes(color, (64, 64)), filename="m.png")
        ids.append(product.id)
    embed_products(product_ids=ids)
    return ids


def test_multimodal_reranker_reads_text_and_photo_and_reorders(
    photo_shop, settings, tiny_vlm_reranker
):
    plain = search_products(SearchRequest(query="mug", page_size=6, rerank=False))
    settings.VITRINE_RERANKER = str(tiny_vlm_reranker)
    reranked = search_products(SearchRequest(query="mug", page_size=6))

    scores = [hit.rerank_score for hit in reranked.results]
    assert None not in scores and scores == sorted(scores, reverse=True)
    assert [h.sku for h in reranked.results] != [h.sku for h in plain.results]
    assert all(h.retrieval_score is not None for h in reranked.results)

    # The score is the reranker's own score for (query, text+photo document).
    model = get_reranker().model
    top = reranked.results[0]
    doc = build_document(products_with_photos(ids=[top.product_id]).get())
    with_photo = model.predict([("mug", {"text": doc.text, "image": doc.load_image()})])[0]
    text_only = model.predict([("mug", doc.text)])[0]
    assert top.rerank_score == pytest.approx(float(with_photo), abs=1e-6)
    assert top.rerank_score != pytest.approx(float(text_only), abs=1e-7)


def test_photo_query_is_reranked_with_the_photo(photo_shop, settings, tiny_vlm_reranker):
    settings.VITRINE_RERANKER = str(tiny_vlm_reranker)
    photo = Image.new("RGB", (64, 64), "green")
    response = search_products(SearchRequest(photo=photo, page_size=6))
    assert response.timings_ms["rerank"] > 0 and response.notices == []
    assert all(hit.rerank_score is not None for hit in response.results)
