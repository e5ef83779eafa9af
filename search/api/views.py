from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from search.api.serializers import SearchQuerySerializer, SearchResponseSerializer
from search.services import SearchRequest, SearchUnavailable, normalise_query, search_products


class SearchView(APIView):
    """Search the catalog by meaning."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[SearchQuerySerializer],
        responses={
            200: SearchResponseSerializer,
            400: OpenApiResponse(description="Missing or invalid parameters"),
            503: OpenApiResponse(description="The index is not ready yet"),
        },
    )
    def get(self, request: Request) -> Response:
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query, truncated = normalise_query(params.validated_data["q"])
        if not query:
            return Response(
                {"q": ["Give a query: it is empty after removing whitespace."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = search_products(
                SearchRequest(
                    query=query,
                    page=params.validated_data["page"],
                    page_size=params.validated_data["page_size"],
                    rerank=params.validated_data["rerank"],
                )
            )
        except SearchUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        result.query_truncated = truncated
        return Response(SearchResponseSerializer(result).data)
