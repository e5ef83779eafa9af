"""`search_products(request) -> SearchResponse`: the one search the storefront, the JSON API
and the CLI share. Orchestration only: the request comes parsed (search.query), the legs and
fusion are search.retrieval's, the ranking rules search.ranking's, the rerank step
search.rerank's, the facets search.facets'.

    request -> typo correction -> keyword leg (+ synonyms) + vector leg (filters inside
            each) -> fusion -> click boost -> rerank the top -> merchandising rules
            -> facets -> sort -> one page

A query's whole ranked list is cached briefly, and text queries' vectors longer
(search.results_cache): one Redis round trip reads them, another writes them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
from django.conf import settings
from django.core.cache import cache

from catalog.models import Product
from catalog.selectors import ProductCard, has_products, product_cards
from search import results_cache
from search.explain import RankingTrace, explain_page
from search.facets import compute_facets, selected_values, with_brand_facet
from search.indexing.indexes import active_index, active_index_for_search
from search.inference.backend import configured_model_modalities, inference_backend
from search.inference.encoding import PhotoQueryUnsupported
from search.insights.clicks import NO_CLICKS, QueryClicks, query_clicks
from search.merchandising.pipeline import NO_MERCHANDISING, Merchandising, merchandising_for
from search.merchandising.rules import apply_rules
from search.models import ProductEmbedding, SearchIndex
from search.query import InvalidSearch, SearchRequest
from search.ranking import sorted_by, with_click_boosts
from search.replicas import read_alias, reads_on_replica, require_index
from search.rerank import rerank_top
from search.retrieval.alongside import run_later, start_alongside
from search.retrieval.counting import counted_products
from search.retrieval.fusion import fuse
from search.retrieval.lexical import lexical_candidates
from search.retrieval.spelling import corrected_request, correction_notice
from search.retrieval.vector import meaning_scale, vector_candidates
from search.types import Candidate, Facet, SearchHit, SearchResponse

logger = logging.getLogger(__name__)

# How deep a query is ranked: each leg's candidates, and what fusion, facets and pagination
# reach (10 pages of 20). The vector leg's ef_search (300; 200 in hybrid search, where fusion
# scores keyword matches itself) is chosen so the HNSW scan can return this many with recall to
# spare (docs/BENCHMARKS.md, Performance); the reranker reads
# the top SEARCH_RERANK_TOP_N of it. Offline evaluation may rank deeper (`max_candidates`).
MAX_CANDIDATES = 200
# How many weaker matches (ranked, not counted: search.retrieval.counting) follow the last
# counted result, as "You might also like": one row, as many as a product page's similar
# products.
ALSO_LIKE = 8


class SearchUnavailable(Exception):
    """The search index cannot answer yet (no model has indexed anything)."""


# What a 503 asks clients to wait before trying again (Retry-After): a few embedding batches.
RETRY_AFTER_S = 30
# The one notice of an empty shop's searches: every mode answers 0 results, and says why.
NO_PRODUCTS_YET = "There are no products in the shop yet."


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


@reads_on_replica  # search reads go to a replica when there is one (search.replicas)
def search_products(
    request: SearchRequest, *, max_candidates: int = MAX_CANDIDATES, whole_ranking: bool = False
) -> SearchResponse:
    """Rank the catalog for a text, photo or text+photo query and cut out one page.

    hybrid (default): keyword and vector legs fused (settings.SEARCH_FUSION); vector: nearest
    neighbours only; lexical: keyword leg only. Filters apply inside each leg. The top N are
    reranked when a reranker is configured. The ranked list is cached briefly so page 2
    comes from the same list as page 1.

    `count` and the pages are the products that match (search.retrieval.counting), in
    ranking order; the page where they end also carries `also_like`, the best few ranked
    products that did not count.

    `max_candidates`: how deep to rank (evaluate_search asks for more than a shopper can page
    to). `whole_ranking`: page through every ranked candidate, counted or not, and leave
    `also_like` empty (evaluate_search measures the ranking itself this way by default).
    The request's parameters are checked already (search.query). Raises InvalidSearch for a
    request that cannot be answered as asked (nothing to search for, a photo the active model
    cannot read), SearchUnavailable when nothing can answer."""
    if request.is_empty:
        raise InvalidSearch("give a query text, a photo, or both")
    if request.mode == "lexical" and not request.query:
        raise InvalidSearch("lexical mode searches words: give a query text")
    started = time.perf_counter()
    # --- typo correction (search.retrieval.spelling): shapes the query before the legs ---
    typed = request
    request, corrected, did_you_mean = corrected_request(request)
    # --- end typo correction ---
    # Synonyms and rules for the query as corrected, read once for the whole search. A
    # merchandiser's redirect answers before any ranking ("retuns" finds the "returns" page).
    merchandising = merchandising_for(request)
    if (redirect := merchandising.rules.redirect) is not None:
        return _redirected(typed, redirect)
    # Read once per search: the cache key, the vector leg and the model info all use it.
    index = active_index_for_search()
    timings = {"encode": 0.0, "retrieve": 0.0, "rerank": 0.0}
    ranking = _before_the_first_index(request) if index is None else None
    if ranking is None:
        ranking = _cached_ranking(request, timings, index, max_candidates, merchandising)
    facets = ranking.facets
    if request.filters.brands:
        facets = _with_other_brands(request, facets, timings, index, max_candidates)

    t = time.perf_counter()
    counted = ranking.order if whole_ranking or ranking.counted is None else ranking.counted
    order = sorted_by(counted, request.sort)
    start = (request.page - 1) * request.page_size
    page_ids = order[start : start + request.page_size]
    also_ids = [] if whole_ranking else _also_like(ranking, counted, request)
    products = product_cards(ids=page_ids + also_ids, using=read_alias())
    hits = [
        _hit(products[pid], ranking.retrieval[pid], ranking.rerank.get(pid))
        for pid in page_ids
        if pid in products  # deleted since the list was ranked
    ]
    if ranking.trace is not None:  # staff asked why (explain=1): the page's products only
        explanations = explain_page(
            ranking.trace,
            relevance=ranking.order,
            page_ids=page_ids,
            start=start,
            sort=request.sort,
        )
        for hit in hits:
            hit.explanation = explanations[hit.product_id]
    also_like = [
        _hit(products[pid], ranking.retrieval[pid], ranking.rerank.get(pid))
        for pid in also_ids
        if pid in products
    ]
    timings["retrieve"] += (time.perf_counter() - t) * 1000
    timings["total"] = (time.perf_counter() - started) * 1000
    if corrected:  # typo correction: the shopper's words, and what was searched instead
        ranking = replace(
            ranking,
            notices=[correction_notice(typed=typed.query, corrected=corrected), *ranking.notices],
        )
    return SearchResponse(
        query=typed.query,
        corrected_query=corrected,
        results=hits,
        count=len(counted),
        page=request.page,
        page_size=request.page_size,
        timings_ms={k: round(v, 2) for k, v in timings.items()},
        model=model_info(index),
        query_truncated=request.query_truncated,
        notices=list(ranking.notices),
        facets=facets,
        mode=ranking.mode,
        # (the keyword leg's: not when a hybrid search fell back to vectors only, or the
        # other way round)
        suggestion=did_you_mean if ranking.mode != "vector" else None,
        sort=request.sort,
        also_like=also_like,
        applied_rules=ranking.applied_rules,
        applied_synonyms=ranking.applied_synonyms,
    )


def _redirected(request: SearchRequest, rule) -> SearchResponse:
    """The answer of a search a rule sends elsewhere: the URL, no results."""
    return SearchResponse(
        query=request.query,
        results=[],
        count=0,
        page=request.page,
        page_size=request.page_size,
        timings_ms={"encode": 0.0, "retrieve": 0.0, "rerank": 0.0, "total": 0.0},
        model=model_info(),
        query_truncated=request.query_truncated,
        mode=request.mode,
        sort=request.sort,
        redirect=rule.redirect,
        applied_rules=[rule.data()],
    )


def _also_like(ranking: _Ranking, counted: list[int], request: SearchRequest) -> list[int]:
    """The best ALSO_LIKE ranked products outside the count, on the page where the counted
    results end (the first page when none counted); none on other pages."""
    last_page = max(1, -(-len(counted) // request.page_size))
    if request.page != last_page or len(counted) == len(ranking.order):
        return []
    inside = set(counted)
    return [pid for pid in ranking.order if pid not in inside][:ALSO_LIKE]


def _cached_ranking(
    request: SearchRequest,
    timings: dict[str, float],
    index: SearchIndex | None,
    limit: int,
    merchandising: Merchandising,
) -> _Ranking:
    """The ranking from the results cache, or ranked now and cached. Both cache reads (the
    ranking, the query's vector) go in one Redis round trip, and both writes in another.
    `merchandising`: the synonyms and rules for this request (merchandising_for)."""
    # Read once: the key and the ranking must agree on what clicks say.
    clicks = query_clicks(request.query) if _learns_from_clicks(request) else NO_CLICKS
    key = results_cache.ranking_cache_key(request, index, limit, clicks)
    # Synonyms and rules shape the ranking: what applies to this query is in its key, so a
    # change shows on the next search (search.merchandising).
    key = merchandising.keyed(key)
    vector_key = results_cache.query_vector_key(index, request)
    found = cache.get_many([key, vector_key] if vector_key else [key])
    # Explaining ranks afresh (the cached ranking keeps no per-leg detail); the same steps
    # rank it, and what is cached is the plain ranking they made.
    ranking = None if request.explain else found.get(key)
    if ranking is None:
        writes: results_cache.CacheWrites = {}
        ranking = _rank(
            request, timings, index, found.get(vector_key), writes, limit,
            clicks=clicks, merchandising=merchandising,
        )  # fmt: skip
        plain = ranking if ranking.trace is None else replace(ranking, trace=None)
        writes[key] = (plain, results_cache.RESULTS_CACHE_S)
        results_cache.write_each(writes)
    return ranking


def _before_the_first_index(request: SearchRequest) -> _Ranking | None:
    """A shop with no index yet: a new one (no products), or one whose first import is being
    embedded. A photo the configured model cannot read is refused first (400, as with an
    index: waiting would not help). An empty shop answers every mode with 0 results and a
    notice, uncached (the first import must show at once); otherwise None: the legs answer
    (keywords in hybrid, "being indexed" in vector mode)."""
    mode = "vector" if not request.query else request.mode
    if request.photo is not None and mode != "lexical":
        modalities = configured_model_modalities()
        if modalities is not None and "image" not in modalities:
            raise InvalidSearch(
                f"the active model ({settings.VITRINE_EMBEDDER}) reads text only and cannot "
                "search by photo"
            )
    if has_products():
        return None
    return _Ranking(
        order=[], retrieval={}, rerank={}, facets=[], notices=[NO_PRODUCTS_YET], mode=mode
    )


def _with_other_brands(
    request: SearchRequest,
    facets: list[Facet],
    timings: dict[str, float],
    index: SearchIndex | None,
    limit: int,
) -> list[Facet]:
    """Brands are multi-select: their counts come from the same search without the brand
    filter, so a shopper or API client who chose one brand still sees the others and how
    many each has. Usually a cache hit: the ranking of the page before the brand was chosen."""
    wider = replace(
        request, filters=replace(request.filters, brands=()), rerank=False, explain=False
    )
    try:
        ranking = _cached_ranking(wider, timings, index, limit, merchandising_for(wider))
    except (InvalidSearch, SearchUnavailable):
        return facets
    wide = next((f for f in ranking.facets if f.name == "brand"), None)
    if wide is None:
        return facets
    return with_brand_facet(facets, wide, chosen=request.filters.brands)


@dataclass
class _Ranking:
    """A query's whole ranked candidate list: what the results cache holds. `counted`: the
    products of `order` that count (search.retrieval.counting), in the same order; the
    facets count those. None: every one counts (a list cached before counts existed)."""

    order: list[int]
    retrieval: dict[int, float]
    rerank: dict[int, float]
    facets: list[Facet]
    notices: list[str]
    mode: str
    counted: list[int] | None = None
    trace: RankingTrace | None = None  # what explains it, when asked (never cached)
    # What merchandising did (search.merchandising): as the response names them.
    applied_rules: list[dict] = field(default_factory=list)
    applied_synonyms: list[dict] = field(default_factory=list)


def _query_vector(
    index: SearchIndex,
    request: SearchRequest,
    cached: bytes | None,
    writes: results_cache.CacheWrites,
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
    key = results_cache.query_vector_key(index, request)
    writes[key] = (vector.tobytes(), results_cache.QUERY_VECTOR_CACHE_S)
    return vector


def _rank(
    request: SearchRequest,
    timings: dict[str, float],
    index: SearchIndex | None,
    cached_vector: bytes | None,
    writes: results_cache.CacheWrites,
    limit: int,
    clicks: QueryClicks = NO_CLICKS,
    merchandising: Merchandising = NO_MERCHANDISING,
) -> _Ranking:
    notices: list[str] = []
    mode = "vector" if not request.query else request.mode
    legs: dict[str, list[Candidate]] = {}
    keyword_leg = None
    if mode in ("hybrid", "lexical"):
        # In a hybrid search it runs while the query is encoded and the ANN index read.
        keyword_leg = (start_alongside if mode == "hybrid" else run_later)(
            lexical_candidates,
            query=request.query,
            limit=limit,
            filters=request.filters,
            synonyms=merchandising.synonyms.alternatives,
        )

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
                index=index,
                query_vector=query_vector,
                limit=limit,
                filters=request.filters,
                ef_search=settings.SEARCH_HNSW_EF_SEARCH_HYBRID if mode == "hybrid" else None,
            )
            timings["retrieve"] += (time.perf_counter() - t) * 1000
    if keyword_leg is not None:
        t = time.perf_counter()
        legs["lexical"] = keyword_leg()  # (what is left of it, when it ran alongside)
        timings["retrieve"] += (time.perf_counter() - t) * 1000

    if len(legs) > 1:
        t = time.perf_counter()
        fused = fuse(legs, index=index, query_vector=query_vector)
        timings["retrieve"] += (time.perf_counter() - t) * 1000
    else:
        fused = next(iter(legs.values()))
    fused = fused[:limit]
    # Shoppers' clicks (search.insights.clicks), before the rerank reads the top: they
    # change the order, never what counts (each candidate keeps what counting reads).
    unboosted = fused
    fused, boosted = with_click_boosts(
        fused,
        boosts=clicks.boosts,
        weight=settings.VITRINE_CLICK_BOOST,
        page=settings.SEARCH_PAGE_SIZE,
    )
    order = [c.product_id for c in fused]
    retrieval = {c.product_id: c.retrieval_score for c in fused}

    rerank_scores: dict[int, float] = {}
    if request.rerank and order and settings.VITRINE_RERANKER:
        t = time.perf_counter()
        exact = {c.product_id for c in fused if c.exact}
        order, rerank_scores, notice = rerank_top(
            order, text=request.query, photo=request.photo, exact=exact
        )
        if notice:
            notices.append(notice)
        timings["rerank"] = (time.perf_counter() - t) * 1000

    # The count keeps the ranking's order; the facets count what is counted.
    scale = None
    if "vector" in legs:
        scale = meaning_scale(
            index=index, query_vector=query_vector, leg=legs["vector"], filters=request.filters
        )
    counts = counted_products(fused, scale=scale)
    # Merchandising rules act last, after the rerank: hides, boosts, pins (a pinned product
    # counts; search.merchandising.rules).
    before_rules, rule_effects = order, {}
    if merchandising.rules:
        ruled = apply_rules(
            merchandising.rules, order=order, counts=counts, filters=request.filters
        )
        order, counts, rule_effects = ruled.order, ruled.counts, ruled.effects
        retrieval.update({pid: 0.0 for pid in ruled.added})
    counted = [pid for pid in order if pid in counts]
    # The legs read each candidate's facet fields with it: no second query over the list.
    known = {c.product_id: c.facet_row for leg in legs.values() for c in leg if c.facet_row}
    facets = compute_facets(counted, selected=selected_values(request.filters), known=known)
    ranking = _Ranking(order, retrieval, rerank_scores, facets, notices, mode, counted)
    ranking.applied_rules = merchandising.rules.data()
    ranking.applied_synonyms = [a.data() for a in merchandising.synonyms.applied]
    if request.explain:
        ranking.trace = RankingTrace(
            query=request.query,
            legs=legs,
            fused=unboosted if len(legs) > 1 else None,
            retrieved=fused,
            rerank_scores=rerank_scores,
            index=index,
            query_vector=query_vector if "vector" in legs else None,
            click_boosts=boosted,
            before_clicks=[c.product_id for c in unboosted] if boosted else [],
            before_rules=before_rules,
            rule_effects=rule_effects,
        )
    return ranking


def _learns_from_clicks(request: SearchRequest) -> bool:
    """Text queries learn from clicks; a photo has no query text for clicks to be kept under."""
    return bool(settings.VITRINE_CLICK_BOOST and request.query and request.photo is None)


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


@reads_on_replica
def similar_products(*, product: Product, limit: int = 8) -> list[SearchHit]:
    """The products nearest to this one in the active index (itself excluded); empty while
    it has no vector there."""
    index = active_index_for_search()
    if index is None:
        return []
    require_index(index)
    row = (
        ProductEmbedding.objects.using(read_alias())
        .filter(index=index, product=product)
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
    products = product_cards(ids=[c.product_id for c in candidates], using=read_alias())
    return [
        _hit(products[c.product_id], c.retrieval_score, None)
        for c in candidates
        if c.product_id in products
    ]
