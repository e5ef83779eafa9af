"""Reranking in this process: a CrossEncoder reads the query and each product document
together (text, or text+photo for a multimodal reranker)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from PIL import Image

from catalog.selectors import products_for_documents
from search.documents import ProductDocument, build_document
from search.inference.loading import Reranker, get_reranker


def rerank_products(
    *, text: str, photo: Image.Image | None, product_ids: list[int]
) -> tuple[dict[int, float], str | None]:
    """Reranker scores for these products, and a notice for the shopper when the reranker
    could not read all of the query."""
    reranker = get_reranker()
    query, notice = _rerank_query(reranker, text, photo)
    if query is None:
        return {}, notice
    products = {p.id: p for p in products_for_documents(ids=product_ids)}
    documents = [build_document(products[pid]) for pid in product_ids if pid in products]
    return rerank_candidates(reranker=reranker, query=query, documents=documents), notice


def _rerank_query(reranker: Reranker, text: str, photo: Image.Image | None):
    """What the reranker reads as the query: the photo too when it can read photos."""
    if photo is None:
        return text, None
    if reranker.reads_images:
        return ({"text": text, "image": photo} if text else photo), None
    if text:
        return text, "The reranker reads text only: results were reranked on your words alone."
    return None, "The reranker reads text only: a photo-only search is not reranked."


def rerank_candidates(
    *, reranker: Reranker, query, documents: Sequence[ProductDocument]
) -> dict[int, float]:
    """Reranker score per product id (higher is better). `query`: text, a photo, or both."""
    if not documents:
        return {}
    inputs: list = []
    for doc in documents:
        image = None
        if reranker.reads_images and doc.image_name:
            try:
                image = doc.load_image()
            except Exception:  # an unreadable photo is reranked on its text
                image = None
        inputs.append({"text": doc.text, "image": image} if image is not None else doc.text)
    ranked = reranker.model.rank(
        query, inputs, batch_size=settings.VITRINE_RERANK_BATCH_SIZE, show_progress_bar=False
    )
    return {documents[r["corpus_id"]].product_id: float(r["score"]) for r in ranked}
