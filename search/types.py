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


@dataclass(frozen=True)
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
    sort: str = "relevance"
    # Weaker matches, outside `count`: the best few the ranking holds beyond the counted
    # results, on the page where those end (search.services.ALSO_LIKE).
    also_like: list[SearchHit] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))


# --- The JSON shape --------------------------------------------------------------------------
# search.api.serializers.SearchResponseSerializer documents this shape (OpenAPI) and
# tests/search/api/test_search_response_shape.py holds the two equal. Built directly rather
# than through the serializer: DRF's field-by-field walk took ~0.8 ms of an uncached search,
# for a few dozen values.


def search_hit_data(hit: SearchHit) -> dict:
    return {
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
        "also_like": [search_hit_data(hit) for hit in response.also_like],
    }
