"""GET /api/v1/suggest: what the search box suggests while a shopper types. Thin: check the
parameters, call search.suggest.selectors, answer."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from search.query import InvalidSearch, parse_search_params
from search.suggest.selectors import (
    MAX_LIMIT,
    InvalidPrefix,
    Suggestions,
    check_prefix,
    suggest,
)


class SuggestThrottle(AnonRateThrottle):
    """Anonymous callers, throttled like search but at their own rate: a shopper typing a
    query asks for several suggestions (VITRINE_SUGGEST_THROTTLE)."""

    scope = "suggest"

    def get_rate(self) -> str | None:
        # Without a rate of its own (a settings override naming only "anon"), search's.
        return self.THROTTLE_RATES.get(self.scope, self.THROTTLE_RATES.get("anon"))


class _Product(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    image = serializers.CharField(allow_null=True)
    url = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class _Category(serializers.Serializer):
    path = serializers.CharField()
    label = serializers.CharField()


class SuggestionsSerializer(serializers.Serializer):
    queries = serializers.ListField(
        child=serializers.CharField(),
        help_text="past shoppers' queries (popular first) and brands completing the prefix",
    )
    products = _Product(many=True)
    categories = _Category(many=True)


class SuggestView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [SuggestThrottle]

    @extend_schema(
        summary="Suggestions for a prefix being typed",
        parameters=[
            OpenApiParameter("q", str, description="what the shopper has typed so far"),
            OpenApiParameter("limit", int, description=f"at most this many of each, 1-{MAX_LIMIT}"),
            OpenApiParameter("category", str, description="a category path to suggest within"),
        ],
        responses={200: SuggestionsSerializer, 400: OpenApiResponse(description="bad input")},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            prefix = check_prefix(params.get("q", ""))
            limit = _limit(params.get("limit", ""))
            category = parse_search_params({"category": params.get("category", "")}).category
        except (InvalidPrefix, InvalidSearch) as exc:
            return Response({exc.param: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(_answer(suggest(prefix=prefix, limit=limit, category=category)))


def _answer(found: Suggestions) -> dict:
    """What SuggestionsSerializer would answer, built directly: the serializer (kept for the
    schema) cost ~0.5 ms of CPU a request, a tenth of a suggestion at 100k products, asked
    for at every keystroke."""
    return {
        "queries": list(found.queries),
        "products": [
            {
                "sku": p.sku,
                "name": p.name,
                "image": p.image,
                "url": p.url,
                "price": None if p.price is None else f"{p.price:.2f}",
            }
            for p in found.products
        ],
        "categories": [{"path": c.path, "label": c.label} for c in found.categories],
    }


def _limit(raw: str) -> int:
    raw = raw.strip()
    if not raw:
        return 8
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidPrefix(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw[:20]!r}", param="limit"
        )
    return int(raw)
