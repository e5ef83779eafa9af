"""The JSON search API. Thin: parse (search.query), call search.services, answer."""

from __future__ import annotations

from dataclasses import replace

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from search.api.serializers import (
    SearchPhotoSerializer,
    SearchPostSerializer,
    SearchQuerySerializer,
    SearchResponseSerializer,
    SimilarProductsSerializer,
)
from search.insights.models import Source
from search.insights.recording import record_search
from search.photos import QueryPhotoRejected, read_query_photo
from search.query import InvalidSearch, SearchRequest, parse_search_request
from search.services import (
    RETRY_AFTER_S,
    SearchUnavailable,
    search_products,
    similar_products,
)
from search.types import search_response_data

ERRORS = {
    400: OpenApiResponse(
        description="Missing or invalid parameters, or a photo the model cannot read"
    ),
    403: OpenApiResponse(description="explain=1 asked by a caller who is not staff"),
    413: OpenApiResponse(description="The photo is too large"),
    503: OpenApiResponse(
        description="Search by meaning cannot answer yet (products being indexed, model "
        "unavailable); Retry-After says when to try again"
    ),
}

# A POST's body that is not JSON, a form or multipart, or whose multipart cannot be read as
# such (DRF answers it before the view runs).
BODY_ERRORS = {415: OpenApiResponse(description="The body's media type is not one accepted")}


def _refused(exc: InvalidSearch) -> Response:
    """400, naming the parameter to blame as DRF does (`{"page": ["..."]}`), else `detail`."""
    body = {exc.param: [str(exc)]} if exc.param else {"detail": str(exc)}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


EXPLAIN_IS_FOR_STAFF = (
    "explain=1 shows why each result ranked where it did and is for staff: log in as a staff"
    " user or send a staff user's token (Authorization: Token ...), or leave explain out."
)


def _explain_refused(request: Request, search: SearchRequest) -> Response | None:
    """403 when a caller who is not staff asks to explain the ranking (the rest of the search
    is open to everyone)."""
    if search.explain and not request.user.is_staff:
        return Response({"detail": EXPLAIN_IS_FOR_STAFF}, status=status.HTTP_403_FORBIDDEN)
    return None


def _answer(request: Request, search: SearchRequest) -> Response:
    try:
        result = search_products(search)
    except InvalidSearch as exc:
        return _refused(exc)
    except SearchUnavailable as exc:
        return Response(
            {"detail": str(exc)},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    if result.redirect is None:  # a query a rule sends elsewhere found nothing to record
        result.search_id = record_search(
            search=search, response=result, source=Source.API, http_request=request
        )
    return Response(search_response_data(result))


class SearchView(APIView):
    """Search the catalog by meaning: GET with text, POST with a photo (and/or text)."""

    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[SearchQuerySerializer], responses={200: SearchResponseSerializer, **ERRORS}
    )
    def get(self, request: Request) -> Response:
        try:
            search = parse_search_request(request.query_params)
        except InvalidSearch as exc:
            return _refused(exc)
        if refused := _explain_refused(request, search):
            return refused
        if not search.query:
            return Response(
                {"q": ["Give a query: it is empty after removing whitespace."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return _answer(request, search)

    @extend_schema(
        request=SearchPostSerializer,
        responses={200: SearchResponseSerializer, **ERRORS, **BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        try:  # the parameters first: a bad one costs no photo download
            search = parse_search_request(request.data)
        except InvalidSearch as exc:
            return _refused(exc)
        if refused := _explain_refused(request, search):
            return refused
        sources = SearchPhotoSerializer(data=request.data)
        sources.is_valid(raise_exception=True)
        data = sources.validated_data
        try:
            photo = read_query_photo(
                upload=data.get("image"), url=data["image_url"], base64_data=data["image_base64"]
            )
        except QueryPhotoRejected as exc:
            code = (
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
                if exc.too_large
                else status.HTTP_400_BAD_REQUEST
            )
            return Response({"image": [exc.reason]}, status=code)
        search = replace(search, photo=photo)
        if search.is_empty:
            hint = "Give a query text (q), a photo (image, image_url or image_base64), or both."
            return Response({"detail": hint}, status=status.HTTP_400_BAD_REQUEST)
        return _answer(request, search)


class SimilarProductsView(APIView):
    """Products nearest to this one in the active index."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="1 to 50, default 8")],
        responses={
            200: SimilarProductsSerializer,
            404: OpenApiResponse(description="No such product"),
        },
    )
    def get(self, request: Request, sku: str) -> Response:
        if "\x00" in sku:  # PostgreSQL text cannot hold NUL: no product has one
            raise Http404("No such product")
        product = get_object_or_404(Product, sku=sku, active=True)
        try:
            limit = min(max(int(request.query_params.get("limit", 8)), 1), 50)
        except ValueError:
            return Response(
                {"limit": ["must be a whole number"]}, status=status.HTTP_400_BAD_REQUEST
            )
        hits = similar_products(product=product, limit=limit)
        return Response(SimilarProductsSerializer({"sku": sku, "results": hits}).data)
