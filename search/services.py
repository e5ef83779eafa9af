"""`search_products`: the one entry point the storefront, the JSON API and the CLI share."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.conf import settings
from PIL import Image

from catalog.models import Product
from catalog.selectors import products_with_photos
from search.documents import build_document
from search.encoding import PhotoQueryUnsupported, encode_query
from search.indexing import active_index
from search.inference import get_embedder, get_reranker
from search.models import ProductEmbedding
from search.rerank import rerank_candidates
from search.retrieval import Candidate, vector_candidates

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")


class SearchUnavailable(Exception):
    """The search index cannot answer yet (no model has indexed anything)."""


class InvalidSearch(ValueError):
    """The request cannot be answered as asked (e.g. a photo for a text-only model).
    The message is meant for the shopper or API client."""


MODES = ("hybrid", "vector", "lexical")


@dataclass(frozen=True)
class SearchFilters:
    """What the shopper narrowed the search to. Empty = everything active."""

    category: str | None = None  # a Category.path ("home/bath"); includes its descendants
    brands: tuple[str, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # (name, value) pairs, all must match

    def __bool__(self) -> bool:
        return bool(
            self.category
            or self.brands
            or self.price_min is not None
            or self.price_max is not None
            or self.attributes
        )


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    photo: Image.Image | None = None  # already checked and decoded (catalog.images.open_photo)
    page: int = 1
    page_size: int = 20
    rerank: bool = True
    mode: str = "hybrid"  # one of MODES; a photo-only query is always "vector"
    filters: SearchFilters = field(default_factory=SearchFilters)


@dataclass
class SearchHit:
    product_id: int
    sku: str
    name: str
    price: Decimal | None
    currency: str
    url: str
    image: str | None
    score: float  # what the order is by: rerank score when reranked, else retrieval score
    retrieval_score: float
    rerank_score: float | None = None


@dataclass
class SearchResponse:
    query: str
    results: list[SearchHit]
    count: int  # how many ranked results pagination can reach
    page: int
    page_size: int
    timings_ms: dict[str, float]
    model: dict[str, object]
    query_truncated: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))


def normalise_query(raw: str) -> tuple[str, bool]:
    """Strip control characters (NUL included) and runs of whitespace; cap the length so a
    pasted essay costs no more than a sentence. Returns (query, was_truncated)."""
    text = _WHITESPACE.sub(" ", _CONTROL_CHARS.sub(" ", raw or "")).strip()
    limit = settings.SEARCH_MAX_QUERY_CHARS
    if len(text) > limit:
        return text[:limit].rstrip(), True
    return text, False


def model_info() -> dict[str, object]:
    index = active_index()
    return {
        "embedder": index.embedder if index else settings.VITRINE_EMBEDDER,
        "embedder_revision": (index.revision or None)
        if index
        else settings.VITRINE_EMBEDDER_REVISION,
        "modalities": index.modalities if index else [],
        "reranker": settings.VITRINE_RERANKER,
    }


def search_products(request: SearchRequest) -> SearchResponse:
    """Encode the query (text, photo or both), take the nearest products from the active
    index, rerank the top N when a reranker is configured, and cut out the requested page.

    Preconditions: `request.query` is normalised; the query or the photo is non-empty; page
    >= 1 and page_size within settings (the API and forms validate). Raises SearchUnavailable
    when no index exists, InvalidSearch when the active model cannot read the query."""
    if not request.query and request.photo is None:
        raise InvalidSearch("give a query text, a photo, or both")
    started = time.perf_counter()
    timings: dict[str, float] = {"encode": 0.0, "retrieve": 0.0, "rerank": 0.0}
    index = active_index()
    if index is None:
        raise SearchUnavailable("the search index is still empty; products are being indexed")

    t = time.perf_counter()
    try:
        query_vector = encode_query(get_embedder(), text=request.query, photo=request.photo)
    except PhotoQueryUnsupported as exc:
        raise InvalidSearch(str(exc)) from None
    timings["encode"] = (time.perf_counter() - t) * 1000

    t = time.perf_counter()
    wanted = max(request.page * request.page_size, settings.SEARCH_RERANK_TOP_N)
    limit = min(settings.SEARCH_MAX_CANDIDATES, wanted)
    candidates = vector_candidates(index=index, query_vector=query_vector, limit=limit)
    products = {p.id: p for p in products_with_photos(ids=[c.product_id for c in candidates])}
    candidates = [c for c in candidates if c.product_id in products]
    timings["retrieve"] = (time.perf_counter() - t) * 1000

    notices: list[str] = []
    order = [c.product_id for c in candidates]
    rerank_scores: dict[int, float] = {}
    reranker = get_reranker() if request.rerank else None
    if reranker and order:
        rerank_query = _rerank_query(reranker, request, notices)
        if rerank_query is not None:
            t = time.perf_counter()
            head = order[: settings.SEARCH_RERANK_TOP_N]
            rerank_scores = rerank_candidates(
                reranker=reranker,
                query=rerank_query,
                documents=[build_document(products[pid]) for pid in head],
            )
            head.sort(key=lambda pid: rerank_scores[pid], reverse=True)
            order = head + order[len(head) :]
            timings["rerank"] = (time.perf_counter() - t) * 1000

    start = (request.page - 1) * request.page_size
    retrieval = {c.product_id: c.retrieval_score for c in candidates}
    hits = [
        _hit(products[pid], retrieval[pid], rerank_scores.get(pid))
        for pid in order[start : start + request.page_size]
    ]
    timings["total"] = (time.perf_counter() - started) * 1000
    return SearchResponse(
        query=request.query,
        results=hits,
        count=len(order),
        page=request.page,
        page_size=request.page_size,
        timings_ms={k: round(v, 2) for k, v in timings.items()},
        model=model_info(),
        notices=notices,
    )


def _rerank_query(reranker, request: SearchRequest, notices: list[str]):
    """What the reranker reads as the query: the photo too when it can read photos."""
    if request.photo is None:
        return request.query
    if reranker.reads_images:
        return {"text": request.query, "image": request.photo} if request.query else request.photo
    if request.query:
        notices.append("The reranker reads text only: results were reranked on your words alone.")
        return request.query
    notices.append("The reranker reads text only: a photo-only search is not reranked.")
    return None


def _hit(product: Product, retrieval_score: float, rerank_score: float | None) -> SearchHit:
    photo = product.primary_image
    return SearchHit(
        product_id=product.id,
        sku=product.sku,
        name=product.name,
        price=product.price,
        currency=product.currency,
        url=product.get_absolute_url(),
        image=photo.file.url if photo else None,
        score=rerank_score if rerank_score is not None else retrieval_score,
        retrieval_score=retrieval_score,
        rerank_score=rerank_score,
    )


def similar_products(*, product: Product, limit: int = 8) -> list[SearchHit]:
    """The products nearest to this one in the active index (itself excluded); empty while
    it has no vector there."""
    index = active_index()
    if index is None:
        return []
    row = (
        ProductEmbedding.objects.filter(index=index, product=product)
        .exclude(embedding=None)
        .only("embedding")
        .first()
    )
    if row is None:
        return []
    vector = np.asarray(row.embedding, dtype=np.float32)  # halfvec comes back as a list
    candidates: list[Candidate] = [
        c
        for c in vector_candidates(index=index, query_vector=vector, limit=limit + 1)
        if c.product_id != product.id
    ][:limit]
    products = {p.id: p for p in products_with_photos(ids=[c.product_id for c in candidates])}
    return [
        _hit(products[c.product_id], c.retrieval_score, None)
        for c in candidates
        if c.product_id in products
    ]
