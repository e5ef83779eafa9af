"""Search insights in JSON, for staff (session or token): the numbers of the admin's
"Search insights" page, read from the same selectors. Thin: search.insights.periods parses
and checks the parameters (a bad one: 400 naming it), the serializers below are the
documented response shape."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from search.insights import selectors
from search.insights.periods import (
    DEFAULT_LIMIT,
    DEFAULT_PERIOD,
    MAX_CUSTOM_DAYS,
    MAX_LIMIT,
    ORDERS,
    PERIODS,
    InvalidInsightsParams,
    parse_limit,
    parse_order,
    period_from_params,
)

# ---- response shape --------------------------------------------------------------------


class PeriodSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=PERIODS, help_text="24h reads live raw events")
    start = serializers.DateTimeField(help_text="inclusive")
    end = serializers.DateTimeField(help_text="exclusive")
    first_day = serializers.DateField(help_text="first UTC day (rollups)")
    last_day = serializers.DateField(help_text="last UTC day, included")
    live = serializers.BooleanField(help_text="true: raw events of the last 24 hours")


class SeriesPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="start of the hour (24h) or UTC day")
    searches = serializers.IntegerField()
    zero_result_searches = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    period = PeriodSerializer()
    searches = serializers.IntegerField()
    zero_result_searches = serializers.IntegerField()
    zero_result_rate = serializers.FloatField(allow_null=True, help_text="0..1")
    searches_with_click = serializers.IntegerField()
    click_through_rate = serializers.FloatField(
        allow_null=True, help_text="searches with a click / searches (0..1)"
    )
    clicks = serializers.IntegerField()
    mean_click_position = serializers.FloatField(
        allow_null=True, help_text="1-based; null without clicks"
    )
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    lost_events = serializers.IntegerField(
        help_text="events that could not be recorded (e.g. Redis down) on the period's days"
    )
    series_unit = serializers.ChoiceField(choices=["hour", "day"])
    series = SeriesPointSerializer(many=True)


class QueryRowSerializer(serializers.Serializer):
    query = serializers.CharField(help_text='normalised; "" for the photo queries row')
    photo = serializers.BooleanField(help_text="true: all photo queries together")
    label = serializers.CharField()
    searches = serializers.IntegerField()
    zero_result_searches = serializers.IntegerField()
    zero_result_rate = serializers.FloatField(allow_null=True)
    searches_with_click = serializers.IntegerField()
    click_through_rate = serializers.FloatField(allow_null=True)
    clicks = serializers.IntegerField()
    mean_click_position = serializers.FloatField(allow_null=True)
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)


class QueriesSerializer(serializers.Serializer):
    period = PeriodSerializer()
    order = serializers.ChoiceField(choices=ORDERS)
    limit = serializers.IntegerField()
    queries = QueryRowSerializer(many=True)


# ---- parameters (for the schema; search.insights.periods checks them) -----------------

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period",
        str,
        enum=list(PERIODS),
        description=f"24h (live raw events), 7d, 30d (UTC days, today included) or custom "
        f"(with from/to). Default {DEFAULT_PERIOD}; from/to alone mean custom.",
    ),
    OpenApiParameter(
        "from",
        str,
        description=f"custom: first UTC day, YYYY-MM-DD (at most {MAX_CUSTOM_DAYS} days)",
    ),
    OpenApiParameter("to", str, description="custom: last UTC day, included; default today"),
]
QUERY_PARAMETERS = [
    OpenApiParameter(
        "order",
        str,
        enum=list(ORDERS),
        description="count: most searched; zero: most zero-result searches; ctr: highest "
        "click-through; slow: highest p95 (queries searched at least "
        f"{selectors.MIN_SEARCHES_FOR_LATENCY} times). Default count.",
    ),
    OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}"),
]
ERRORS = {
    400: OpenApiResponse(description="A bad parameter, named: {param: [reason]}"),
    403: OpenApiResponse(description="Not a staff user (session or token)"),
}


def _refused(exc: InvalidInsightsParams) -> Response:
    return Response({exc.param: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)


class InsightsSummaryView(APIView):
    """Totals, rates, latency and searches over time for a period."""

    permission_classes = [IsAdminUser]

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: SummarySerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        try:
            period = period_from_params(request.query_params)
        except InvalidInsightsParams as exc:
            return _refused(exc)
        return Response(SummarySerializer(selectors.insights_summary(period=period)).data)


class InsightsQueriesView(APIView):
    """The query table of a period, in the asked order."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=PERIOD_PARAMETERS + QUERY_PARAMETERS,
        responses={200: QueriesSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            period = period_from_params(params)
            order = parse_order(params.get("order"))
            limit = parse_limit(params.get("limit"))
        except InvalidInsightsParams as exc:
            return _refused(exc)
        rows = selectors.query_table(period=period, order=order, limit=limit)
        data = {"period": period, "order": order, "limit": limit, "queries": rows}
        return Response(QueriesSerializer(data).data)
