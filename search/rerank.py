"""Reordering the top candidates with a CrossEncoder that reads the query and each product
document together (text, or text+photo for a multimodal reranker)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from search.documents import ProductDocument
from search.inference import Reranker


def rerank_candidates(
    *, reranker: Reranker, query: str, documents: Sequence[ProductDocument]
) -> dict[int, float]:
    """Reranker score per product id (higher is better)."""
    if not documents:
        return {}
    inputs: list = []
    for doc in documents:
        image = None
        if reranker.reads_images and doc.image_path:
            try:
                image = doc.load_image()
            except Exception:  # an unreadable photo is reranked on its text
                image = None
        inputs.append({"text": doc.text, "image": image} if image is not None else doc.text)
    ranked = reranker.model.rank(
        query, inputs, batch_size=settings.VITRINE_RERANK_BATCH_SIZE, show_progress_bar=False
    )
    return {documents[r["corpus_id"]].product_id: float(r["score"]) for r in ranked}
