"""`POST /api/v1/events`: a shopper clicked a result, added it to the cart or bought it.
Thin: the checks and the recording are search.insights.events'."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from search.insights.events import (
    MAX_EVENT_BYTES,
    TYPES,
    EventRejected,
    EventsUnavailable,
    record_result_event,
)


class EventJSONParser(JSONParser):
    """JSON, with nesting too deep for Python's parser (RecursionError) refused as bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


class BeaconJSONParser(EventJSONParser):
    """`navigator.sendBeacon` with a string body sends it as text/plain: read it as JSON."""

    media_type = "text/plain"


class ResultEventSerializer(serializers.Serializer):
    """The documented shape (the checks are search.insights.events')."""

    search_id = serializers.UUIDField(help_text="the search_id the search answered")
    sku = serializers.CharField(max_length=200, help_text="the product's SKU")
    type = serializers.ChoiceField(choices=TYPES)
    position = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="where the client saw it (1-based); the position recorded is where the "
        "search showed it",
    )


class RecordedEventSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(
        help_text="false: the same event (search, type, SKU) from this visitor was recorded "
        "already, or search insights are off"
    )
    position = serializers.IntegerField(
        allow_null=True, help_text="where the search showed the SKU; null: it did not"
    )


class ResultEventView(APIView):
    """Record what a shopper did with a search's result: anonymous (a beacon carries no CSRF
    token, so no session authentication), throttled like search."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    parser_classes = [EventJSONParser, BeaconJSONParser]

    @extend_schema(
        request=ResultEventSerializer,
        responses={
            202: RecordedEventSerializer,
            200: RecordedEventSerializer,
            400: OpenApiResponse(
                description="Not an event: unknown search_id or SKU, a click on a SKU the "
                "search did not show, a bad type or position, or a body that is not JSON"
            ),
            413: OpenApiResponse(description=f"Longer than {MAX_EVENT_BYTES} bytes"),
            415: OpenApiResponse(description="Neither application/json nor text/plain"),
            429: OpenApiResponse(description="Too many requests from this address"),
            503: OpenApiResponse(description="Events cannot be recorded right now"),
        },
        examples=[
            OpenApiExample(
                "A click",
                value={
                    "search_id": "6f1c7f0e-8a59-4a4e-9d0a-2b1f5c3e9a10",
                    "sku": "TWL-1",
                    "type": "click",
                    "position": 3,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_EVENT_BYTES:
            return Response(
                {"detail": f"an event is at most {MAX_EVENT_BYTES} bytes"},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            payload = request.data
        except ParseError:
            return Response({"detail": "send the event as a JSON object"}, status=400)
        try:
            event = record_result_event(payload=payload, http_request=request)
        except EventRejected as exc:
            body = {exc.field: [str(exc)]} if exc.field else {"detail": str(exc)}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        except EventsUnavailable as exc:
            return Response(
                {"detail": str(exc)},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
        code = status.HTTP_202_ACCEPTED if event.recorded else status.HTTP_200_OK
        return Response({"recorded": event.recorded, "position": event.position}, status=code)
