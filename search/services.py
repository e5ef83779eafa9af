"""`search_products`: the one entry point the storefront, the JSON API and the CLI share."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings
from django.core.cache import cache

from catalog.models import Product
from catalog.selectors import ProductCard, product_cards
from config.cache import set_each
from search.facets import compute_facets
from search.indexing.indexes import active_index, active_index_for_search
from search.inference.backend import inference_backend
from search.inference.encoding import PhotoQueryUnsupported
from search.inference.remote import RemoteInferenceUnavailable
from search.models import ProductEmbedding, SearchIndex
from search.query import InvalidSearch, SearchFilters, SearchRequest
from search.retrieval import (
    dense_similarities,
    fuse_reciprocal_ranks,
    fuse_scores,
    lexical_candidates,
    spelling_suggestion,
    vector_candidates,
)
from search.types import Candidate, Facet, SearchHit, SearchResponse

logger = logging.getLogger(__name__)


class SearchUnavailable(Exception):
    """The search index cannot answer yet (no model has indexed anything)."""


def model_info(index: SearchIndex | None = None) -> dict[str, object]:
    """The active models; `index`: the active index when the caller has just read it."""
    index = index or active_index()
    return {
        "embedder": index.embedder if index else settings.VITRINE_EMBEDDER,
        "embedder_revision": (index.revision or None)
        if index
        else settings.VITRINE_EMBEDDER_REVISION,
        "modalities": index.modalities if index else [],
        "reranker": settings.VITRINE_RERANKER,
    }


def search_products(request: SearchRequest) -> SearchResponse:
    """Rank the catalog for a text, photo or text+photo query and cut out one page.

    hybrid (default): keyword and vector legs fused (settings.SEARCH_FUSION); vector: nearest
    neighbours only; lexical: keyword leg only. Filters apply inside each leg. The top N are
    reranked when a reranker is configured. The ranked list is cached briefly so page 2
    comes from the same list as page 1.

    Preconditions: `request.query` is normalised; the query or the photo is non-empty; page
    >= 1 and page_size within settings (the API and forms validate). Raises InvalidSearch for
    a request the active models cannot answer, SearchUnavailable when nothing can answer."""
    if request.is_empty:
        raise InvalidSearch("give a query text, a photo, or both")
    if request.mode == "lexical" and not request.query:
        raise InvalidSearch("lexical mode searches words: give a query text")
    started = time.perf_counter()
    # Read once per search: the cache key, the vector leg and the model info all use it.
    index = active_index_for_search()
    timings = {"encode": 0.0, "retrieve": 0.0, "rerank": 0.0}
    ranking = _cached_ranking(request, timings, index)
    facets = ranking.facets
    if request.filters.brands:
        facets = _with_other_brands(request, facets, timings, index)

    t = time.perf_counter()
    order = _sorted(ranking.order, request.sort)
    start = (request.page - 1) * request.page_size
    page_ids = order[start : start + request.page_size]
    products = product_cards(ids=page_ids)
    hits = [
        _hit(products[pid], ranking.retrieval[pid], ranking.rerank.get(pid))
        for pid in page_ids
        if pid in products  # deleted since the list was ranked
    ]
    timings["retrieve"] += (time.perf_counter() - t) * 1000
    timings["total"] = (time.perf_counter() - started) * 1000
    return SearchResponse(
        query=request.query,
        results=hits,
        count=len(ranking.order),
        page=request.page,
        page_size=request.page_size,
        timings_ms={k: round(v, 2) for k, v in timings.items()},
        model=model_info(index),
        query_truncated=request.query_truncated,
        notices=list(ranking.notices),
        facets=facets,
        mode=ranking.mode,
        suggestion=ranking.suggestion,
        sort=request.sort,
    )


def _cached_ranking(
    request: SearchRequest, timings: dict[str, float], index: SearchIndex | None
) -> _Ranking:
    """The ranking from the results cache, or ranked now and cached. Both cache reads (the
    ranking, the query's vector) go in one Redis round trip, and both writes in another."""
    key = _ranking_cache_key(request, index)
    vector_key = _query_vector_key(index, request)
    found = cache.get_many([key, vector_key] if vector_key else [key])
    ranking = found.get(key)
    if ranking is None:
        writes: CacheWrites = {}
        ranking = _rank(request, timings, index, found.get(vector_key), writes)
        writes[key] = (ranking, settings.SEARCH_RESULTS_CACHE_S)
        set_each(cache, writes)
    return ranking


def _with_other_brands(
    request: SearchRequest, facets: list[Facet], timings: dict[str, float], index
) -> list[Facet]:
    """Brands are multi-select: their counts come from the same search without the brand
    filter, so a shopper or API client who chose one brand still sees the others and how
    many each has. Usually a cache hit: the ranking of the page before the brand was chosen."""
    wider = replace(request, filters=replace(request.filters, brands=()), rerank=False)
    try:
        ranking = _cached_ranking(wider, timings, index)
    except (InvalidSearch, SearchUnavailable):
        return facets
    wide = next((f for f in ranking.facets if f.name == "brand"), None)
    if wide is None:
        return facets
    chosen = {b.lower() for b in request.filters.brands}
    values = [replace(v, selected=v.value.lower() in chosen) for v in wide.values]
    merged = {f.name: f for f in facets} | {"brand": replace(wide, values=values)}
    declared = [spec["name"] for spec in settings.SEARCH_FACETS]
    return sorted(merged.values(), key=lambda f: declared.index(f.name))


def _sorted(order: list[int], sort: str) -> list[int]:
    """Relevance order, or by price (products without a price last; relevance breaks ties)."""
    if sort == "relevance":
        return order
    prices = dict(Product.objects.filter(id__in=order).values_list("id", "price"))
    rank = {pid: i for i, pid in enumerate(order)}
    sign = 1 if sort == "price_asc" else -1

    def key(pid: int):
        price = prices.get(pid)
        return (price is None, sign * price if price is not None else 0, rank[pid])

    return sorted(order, key=key)


@dataclass
class _Ranking:
    """A query's whole ranked candidate list: what the results cache holds."""

    order: list[int]
    retrieval: dict[int, float]
    rerank: dict[int, float]
    facets: list[Facet]
    notices: list[str]
    mode: str
    suggestion: str | None = None


def _ranking_cache_key(request: SearchRequest, index: SearchIndex | None) -> str:
    digest = hashlib.sha256()
    parts = [
        index.pk if index else None,
        request.mode,
        request.query,
        repr(request.filters),
        request.rerank and settings.VITRINE_RERANKER,
        settings.SEARCH_MAX_CANDIDATES,
        settings.SEARCH_FUSION,
        settings.SEARCH_FUSION_WEIGHTS,
    ]
    digest.update(repr(parts).encode())
    if request.photo is not None:
        digest.update(request.photo.tobytes())
    return "search:ranking:" + digest.hexdigest()


# Cache entries a search writes at its end, in one round trip: key -> (value, timeout).
CacheWrites = dict[str, tuple[object, int]]


def _query_vector_key(index: SearchIndex | None, request: SearchRequest) -> str | None:
    """Text queries' vectors are cached per index (head queries repeat a lot)."""
    if index is None or request.photo is not None or not request.query:
        return None
    if request.mode == "lexical":  # no vector needed
        return None
    return f"search:qvec:{index.pk}:" + hashlib.sha256(request.query.encode()).hexdigest()


def _query_vector(
    index: SearchIndex, request: SearchRequest, cached: bytes | None, writes: CacheWrites
) -> np.ndarray:
    """The query's vector: `cached` when the cache had it, else encoded (and put in `writes`)."""
    if request.photo is not None:
        if not (index.modalities and "image" in index.modalities):
            raise PhotoQueryUnsupported(
                f"the active model ({index.embedder}) reads text only and cannot search by photo"
            )
        return inference_backend().encode_query(index, text=request.query, photo=request.photo)
    if cached is not None:
        return np.frombuffer(cached, dtype=np.float32)
    vector = inference_backend().encode_query(index, text=request.query, photo=None)
    vector = vector.astype(np.float32)
    key = _query_vector_key(index, request)
    writes[key] = (vector.tobytes(), settings.SEARCH_QUERY_VECTOR_CACHE_S)
    return vector


def _rank(
    request: SearchRequest,
    timings: dict[str, float],
    index: SearchIndex | None,
    cached_vector: bytes | None,
    writes: CacheWrites,
) -> _Ranking:
    limit = settings.SEARCH_MAX_CANDIDATES
    notices: list[str] = []
    mode = "vector" if not request.query else request.mode
    legs: dict[str, list[Candidate]] = {}

    if mode in ("hybrid", "vector"):
        t = time.perf_counter()
        try:
            if index is None:
                raise SearchUnavailable(
                    "the search index is still empty; products are being indexed"
                )
            query_vector = _query_vector(index, request, cached_vector, writes)
        except PhotoQueryUnsupported as exc:
            raise InvalidSearch(str(exc)) from None
        except Exception as exc:
            # The model or the index cannot answer: keep serving keyword matches, and say so.
            if mode == "vector":
                raise (
                    exc
                    if isinstance(exc, SearchUnavailable)
                    else SearchUnavailable(
                        f"the search model is unavailable ({exc.__class__.__name__})"
                    )
                ) from exc
            if not isinstance(exc, SearchUnavailable):
                logger.exception("vector leg unavailable; answering with keywords only")
            notices.append("Search by meaning is unavailable right now: showing keyword matches.")
            mode = "lexical"
        else:
            timings["encode"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            legs["vector"] = vector_candidates(
                index=index, query_vector=query_vector, limit=limit, filters=request.filters
            )
            timings["retrieve"] += (time.perf_counter() - t) * 1000
    if mode in ("hybrid", "lexical"):
        t = time.perf_counter()
        legs["lexical"] = lexical_candidates(
            query=request.query, limit=limit, filters=request.filters
        )
        timings["retrieve"] += (time.perf_counter() - t) * 1000

    if len(legs) > 1:
        t = time.perf_counter()
        fused = _fuse(legs, index=index, query_vector=query_vector)
        timings["retrieve"] += (time.perf_counter() - t) * 1000
    else:
        fused = next(iter(legs.values()))
    fused = fused[:limit]
    order = [c.product_id for c in fused]
    retrieval = {c.product_id: c.retrieval_score for c in fused}

    rerank_scores: dict[int, float] = {}
    if request.rerank and order and settings.VITRINE_RERANKER:
        t = time.perf_counter()
        head = order[: settings.SEARCH_RERANK_TOP_N]
        try:
            rerank_scores, notice = inference_backend().rerank(
                text=request.query, photo=request.photo, product_ids=head
            )
        except RemoteInferenceUnavailable:
            logger.warning("remote reranking unavailable; keeping retrieval order", exc_info=True)
            rerank_scores, notice = {}, "Reranking is unavailable right now."
        if notice:
            notices.append(notice)
        if rerank_scores:
            exact = {c.product_id for c in fused if c.exact}
            head = [pid for pid in head if pid in rerank_scores]
            # An exact SKU/brand match stays first: the shopper typed its identifier.
            head.sort(key=lambda pid: (pid not in exact, -rerank_scores[pid]))
            order = head + [pid for pid in order if pid not in rerank_scores]
        timings["rerank"] = (time.perf_counter() - t) * 1000

    # The legs read each candidate's facet fields with it: no second query over the list.
    known = {c.product_id: c.facet_row for leg in legs.values() for c in leg if c.facet_row}
    facets = compute_facets(order, selected=_selected_facets(request.filters), known=known)
    suggestion = None
    if "lexical" in legs:
        suggestion = spelling_suggestion(request.query)
        if suggestion == request.query.lower():
            suggestion = None
    return _Ranking(order, retrieval, rerank_scores, facets, notices, mode, suggestion)


def _fuse(
    legs: dict[str, list[Candidate]], *, index: SearchIndex, query_vector: np.ndarray
) -> list[Candidate]:
    """One ranking from the keyword and vector legs (settings.SEARCH_FUSION)."""
    weights = settings.SEARCH_FUSION_WEIGHTS
    if settings.SEARCH_FUSION == "rrf":
        return fuse_reciprocal_ranks(legs, k=settings.SEARCH_RRF_K, weights=weights)
    # Score fusion needs both scores of every candidate: a keyword match outside the vector
    # leg's top list is scored from its stored vector, not counted as a zero.
    seen = {c.product_id for c in legs["vector"]}
    missing = [c for c in legs["lexical"] if c.product_id not in seen]
    similarities = dense_similarities(
        index=index, query_vector=query_vector, product_ids=[c.product_id for c in missing]
    )
    vector = legs["vector"] + [
        replace(c, retrieval_score=similarities[c.product_id], exact=False)
        for c in missing
        if c.product_id in similarities
    ]
    return fuse_scores({**legs, "vector": vector}, weights=weights)


def _selected_facets(filters: SearchFilters) -> dict[str, object]:
    selected: dict[str, object] = {"category": filters.category, "brand": filters.brands}
    if filters.price_min is not None or filters.price_max is not None:
        selected["price"] = (filters.price_min, filters.price_max)
    return selected


def _hit(product: ProductCard, retrieval_score: float, rerank_score: float | None) -> SearchHit:
    return SearchHit(
        product_id=product.id,
        sku=product.sku,
        name=product.name,
        price=product.price,
        currency=product.currency,
        url=product.url,
        image=product.photo_url,
        score=rerank_score if rerank_score is not None else retrieval_score,
        retrieval_score=retrieval_score,
        rerank_score=rerank_score,
    )


def similar_products(*, product: Product, limit: int = 8) -> list[SearchHit]:
    """The products nearest to this one in the active index (itself excluded); empty while
    it has no vector there."""
    index = active_index_for_search()
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
    products = product_cards(ids=[c.product_id for c in candidates])
    return [
        _hit(products[c.product_id], c.retrieval_score, None)
        for c in candidates
        if c.product_id in products
    ]
