"""The API builds its response without DRF's serializer walk; the serializer stays the
documented (OpenAPI) shape, so the two must never drift apart."""

from __future__ import annotations

import json

from rest_framework.renderers import JSONRenderer

from search.api.serializers import SearchResponseSerializer
from search.query import SearchFilters, SearchRequest
from search.services import search_products
from search.types import search_response_data


def _as_json(data: dict) -> dict:
    return json.loads(JSONRenderer().render(data))


def test_response_equals_the_documented_serializer_for_every_field(shop):
    for request in [
        SearchRequest(query="red running shoes", page_size=3),
        SearchRequest(query="shoes", mode="lexical", filters=SearchFilters(brands=("Stride",))),
        SearchRequest(query="zzzz qqqq", mode="vector", page=40),
    ]:
        result = search_products(request)
        result.query_truncated = True
        built = _as_json(search_response_data(result))
        assert built == _as_json(SearchResponseSerializer(result).data)
        assert set(built) == set(SearchResponseSerializer().fields)


def test_api_answers_with_facets_prices_and_scores_as_documented(shop, client):
    body = client.get("/api/v1/search", {"q": "running shoes", "page_size": 2}).json()
    hit = body["results"][0]
    assert isinstance(hit["price"], float) and isinstance(hit["score"], float)
    assert hit["rerank_score"] is None and hit["url"] == f"/products/{hit['sku']}/"
    brand = next(f for f in body["facets"] if f["name"] == "brand")
    assert {"value", "label", "count", "selected"} == set(brand["values"][0])
    assert body["num_pages"] == -(-body["count"] // 2)
