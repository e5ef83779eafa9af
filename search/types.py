"""What a search hands between its steps and back to its callers: the legs' candidates, the
facets, the hits of a page and the response, plus the response's one JSON shape.

Plain data, no database and no models: every layer of `search` may import it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import NamedTuple


class FacetRow(NamedTuple):
    """What the facets read of one product (the retrieval legs return it with each candidate)."""

    sku: str
    category_id: int | None
    brand: str
    price: Decimal | None


@dataclass(slots=True)  # (several hundred a search: a frozen one costs twice as much to make)
class Candidate:
    product_id: int
    retrieval_score: float  # vector: cosine similarity; keyword: rank score; fused: fusion score
    exact: bool = False  # the query is this product's SKU or brand, exactly
    # What the facets count, read in the same statement as the candidate (no second query).
    facet_row: FacetRow | None = field(default=None, compare=False)
    # What the result count reads (search.retrieval.counting): the keyword leg says whether
    # the product matches the query's words; the vector leg gives its cosine similarity.
    matched: bool = False
    similarity: float | None = None


@dataclass(frozen=True)
class Alternative:
    """Another way to say some of a query's words, for the keyword leg (a synonym:
    search.merchandising.synonyms): `lexemes`, the stemmed query words it stands for;
    `tsquery`, the alternative as PostgreSQL's text of a phrase tsquery (phraseto_tsquery)."""

    lexemes: frozenset[str]
    tsquery: str


@dataclass
class FacetValue:
    value: str  # what goes in the query string to select it
    label: str
    count: int
    selected: bool = False


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue] = field(default_factory=list)


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
    explanation: Explanation | None = None  # why it ranked here: only when staff ask


# --- Why a result ranked where it did (staff's `explain=1`; built by search.explain) ---------
# One entry per pipeline stage that placed it, in pipeline order. Each stage is its own type
# with a fixed `stage` name; later stages (synonyms, rules, click boosts) are more entries.
# Ranks are 1-based positions in the whole ranked list (not the page); `moved` is how many
# places a stage lifted the product (negative: dropped).


@dataclass(frozen=True)
class KeywordStage:
    """The keyword leg. `score`: its score (idf-weighted word matches per field, plus the
    trigram similarity of near-misses); `rank`: the product's place in what the leg returned
    (exact SKU/brand matches first); both None when the leg did not return it.
    `matched_words`: the query's words, stemmed as the leg stems them, that the product's
    keyword document holds, in query order; `matched_in`: the strongest field each was found
    in; `trigram_similarity`: the query's similarity to its name, brand and SKU (None when
    near-misses are off)."""

    stage: str = field(default="keyword", init=False)
    score: float | None
    rank: int | None
    matched_words: tuple[str, ...] = ()
    matched_in: dict[str, str] = field(default_factory=dict)
    trigram_similarity: float | None = None


@dataclass(frozen=True)
class VectorStage:
    """The vector (meaning) leg. `similarity`: cosine similarity of the query to the product's
    vector (None when it has none in the active index); `rank`: its place among the leg's
    nearest neighbours, None when outside them (the similarity is then read from its stored
    vector, as score fusion reads it)."""

    stage: str = field(default="vector", init=False)
    similarity: float | None
    rank: int | None


@dataclass(frozen=True)
class FusionStage:
    """Both legs made one list. `method`: "convex" (each leg's score min-max normalised over
    its candidates, weighted, summed) or "rrf" (weight / (k + rank) per leg);
    `contributions`: each leg's part of `score` ("keyword", "vector"); `rank`: its place by
    this score alone."""

    stage: str = field(default="fusion", init=False)
    method: str
    score: float
    rank: int
    contributions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ExactMatchStage:
    """The query is this product's SKU or brand, exactly (`field`): it goes before every
    product that is not, whatever the scores. `rank`: its place after this rule; `moved`:
    places gained over the score alone."""

    stage: str = field(default="exact_match", init=False)
    field: str
    rank: int
    moved: int


@dataclass(frozen=True)
class ClickBoostStage:
    """Shoppers' clicks on this query's results moved it (search.insights.clicks). `boost`:
    what was added to its score (at most VITRINE_CLICK_BOOST of the query's score range, up
    or down); `rank`, `moved`: its place after the boost and the places gained by it."""

    stage: str = field(default="click_boost", init=False)
    boost: float
    rank: int
    moved: int


@dataclass(frozen=True)
class RerankStage:
    """The reranker read the query and the product together. `score`: its score (None below
    the top VITRINE_RERANK_TOP_N it reads, which keep their order); `rank`, `moved`: its place
    after the rerank and the places gained by it."""

    stage: str = field(default="rerank", init=False)
    score: float | None
    rank: int
    moved: int


@dataclass(frozen=True)
class SortStage:
    """The shopper sorted by something else than relevance (`by`): `rank` is the place in
    that order."""

    stage: str = field(default="sort", init=False)
    by: str
    rank: int


@dataclass(frozen=True)
class RuleStage:
    """A merchandising rule moved it (search.merchandising.rules): `action` "pinned",
    "boosted" or "buried", by `rules` (their ids); `rank`: its place after the rules;
    `moved`: places gained (None: the ranking did not hold it, a pin brought it)."""

    stage: str = field(default="rule", init=False)
    action: str
    rules: tuple[int | None, ...]
    rank: int
    moved: int | None


ExplainStage = (
    KeywordStage
    | VectorStage
    | FusionStage
    | ExactMatchStage
    | ClickBoostStage
    | RerankStage
    | RuleStage
    | SortStage
)


@dataclass(frozen=True)
class Explanation:
    position: int  # the final place in the whole ranked list (1 = first)
    stages: tuple[ExplainStage, ...]


@dataclass
class SearchResponse:
    query: str
    results: list[SearchHit]
    count: int  # how many products match (search.retrieval.counting); pages hold these
    page: int
    page_size: int
    timings_ms: dict[str, float]
    model: dict[str, object]
    query_truncated: bool = False
    notices: list[str] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    mode: str = "hybrid"  # what answered: "lexical" when the vector leg was unavailable
    suggestion: str | None = None  # "did you mean", when the keyword leg found misspellings
    # What was searched instead of the typed `query` (typo correction), or None.
    corrected_query: str | None = None
    sort: str = "relevance"
    # Weaker matches, outside `count`: the best few the ranking holds beyond the counted
    # results, on the page where those end (search.services.ALSO_LIKE).
    also_like: list[SearchHit] = field(default_factory=list)
    # This search's id in search insights (search.insights.recording): result events name
    # it. None when recording is off (VITRINE_ANALYTICS=0) or the event could not be kept.
    search_id: str | None = None
    # Merchandising (search.merchandising): where a rule sends this query instead (no
    # results then), the rules that acted and the synonyms the keyword leg also searched.
    redirect: str | None = None
    applied_rules: list[dict] = field(default_factory=list)
    applied_synonyms: list[dict] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))


# --- The JSON shape --------------------------------------------------------------------------
# search.api.serializers.SearchResponseSerializer documents this shape (OpenAPI) and
# tests/search/api/test_search_response_shape.py holds the two equal. Built directly rather
# than through the serializer: DRF's field-by-field walk took ~0.8 ms of an uncached search,
# for a few dozen values.


def search_hit_data(hit: SearchHit) -> dict:
    data = {
        "sku": hit.sku,
        "name": hit.name,
        "price": hit.price,
        "currency": hit.currency,
        "url": hit.url,
        "image": hit.image,
        "score": float(hit.score),
        "retrieval_score": float(hit.retrieval_score),
        "rerank_score": None if hit.rerank_score is None else float(hit.rerank_score),
    }
    if hit.explanation is not None:  # only when staff asked (explain=1)
        data["explain"] = explanation_data(hit.explanation)
    return data


def explanation_data(explanation: Explanation) -> dict:
    return {
        "position": explanation.position,
        "stages": [asdict(stage) for stage in explanation.stages],
    }


def search_response_data(response: SearchResponse) -> dict:
    """The response as the API answers it (and `manage.py search --json` prints it)."""
    return {
        "query": response.query,
        "query_truncated": response.query_truncated,
        "results": [search_hit_data(hit) for hit in response.results],
        "count": response.count,
        "page": response.page,
        "page_size": response.page_size,
        "num_pages": response.num_pages,
        "timings_ms": response.timings_ms,
        "model": response.model,
        "notices": response.notices,
        "facets": [asdict(facet) for facet in response.facets],
        "mode": response.mode,
        "sort": response.sort,
        "suggestion": response.suggestion,
        "corrected_query": response.corrected_query,
        "also_like": [search_hit_data(hit) for hit in response.also_like],
        "search_id": response.search_id,
        "redirect": response.redirect,
        "applied_rules": response.applied_rules,
        "applied_synonyms": response.applied_synonyms,
    }
