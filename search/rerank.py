"""A search's rerank step: the top of the ranking is reordered by the reranker (in this
process or on the GPU workers, search.inference.backend); a reranker that cannot answer
leaves the retrieval order, and the shopper is told."""

from __future__ import annotations

import logging

from django.conf import settings
from PIL import Image

from search.inference.backend import inference_backend
from search.inference.remote import RemoteInferenceUnavailable
from search.ranking import reranked

logger = logging.getLogger(__name__)


def rerank_top(
    order: list[int], *, text: str, photo: Image.Image | None, exact: set[int]
) -> tuple[list[int], dict[int, float], str | None]:
    """The top SEARCH_RERANK_TOP_N of `order` reranked (exact SKU/brand matches stay first),
    the reranker's scores, and a notice for the shopper (or None)."""
    head = order[: settings.SEARCH_RERANK_TOP_N]
    try:
        scores, notice = inference_backend().rerank(text=text, photo=photo, product_ids=head)
    except RemoteInferenceUnavailable:
        logger.warning("remote reranking unavailable; keeping retrieval order", exc_info=True)
        return order, {}, "Reranking is unavailable right now."
    if scores:
        order = reranked(order, scores=scores, exact=exact)
    return order, scores, notice
