"""Staff's API for synonyms and merchandising rules. Thin: the checks and writes are
search.merchandising's; a bad request is a 400 naming the field and the reason."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from search.merchandising.models import MerchandisingRule, SynonymSet
from search.merchandising.rule_writes import (
    MAX_PIN_POSITION,
    RuleInvalid,
    delete_rule,
    rule_data,
    save_rule,
    update_rule,
)
from search.merchandising.rules import MAX_FACTOR, MIN_FACTOR
from search.merchandising.synonyms import (
    SynonymsInvalid,
    delete_synonym_set,
    export_csv,
    import_csv,
    save_synonym_set,
    synonym_set_data,
)

REFUSED = OpenApiResponse(description="Invalid: the body names each field and the reason")
NOT_STAFF = OpenApiResponse(description="Staff only (log in, or send a staff user's token)")


class SynonymSetSerializer(serializers.Serializer):
    """A synonym set: `terms` (multi-way: every term finds the others) or `from` and `to`
    (one-way: `from` also finds `to`, not the other way round)."""

    id = serializers.IntegerField(read_only=True)
    terms = serializers.ListField(
        child=serializers.CharField(), required=False,
        help_text='multi-way, e.g. ["sneakers", "trainers", "running shoes"]',
    )  # fmt: skip
    to = serializers.ListField(
        child=serializers.CharField(), required=False, help_text='e.g. ["phone case"]'
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False, help_text='e.g. "iphone case"')
        return fields


SynonymCsvIn = inline_serializer("SynonymCsv", {"file": serializers.FileField()})
SynonymsImported = inline_serializer("SynonymsImported", {"added": serializers.IntegerField()})


class RuleSerializer(serializers.Serializer):
    """A merchandising rule (README, "Synonyms and merchandising rules")."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    match = serializers.ChoiceField(
        choices=MerchandisingRule.Match.values, required=False, default="exact",
        help_text="exact: the normalised query is `query`; contains: the query holds the "
        "phrase `query`; category: any query filtered to `category` or below",
    )  # fmt: skip
    query = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.CharField(required=False, allow_blank=True, help_text="a path")
    pin = serializers.ListField(
        child=inline_serializer(
            "Pin", {"sku": serializers.CharField(), "position": serializers.IntegerField(
                min_value=1, max_value=MAX_PIN_POSITION)}
        ),
        required=False, help_text="products put at these places (1 = first) of the results",
    )  # fmt: skip
    hide = serializers.ListField(child=serializers.CharField(), required=False)
    boost = serializers.ListField(
        child=inline_serializer(
            "Boost",
            {
                "brand": serializers.CharField(required=False),
                "category": serializers.CharField(required=False),
                "attribute": serializers.CharField(required=False, help_text="name:value"),
                "factor": serializers.FloatField(min_value=MIN_FACTOR, max_value=MAX_FACTOR),
            },
        ),
        required=False, help_text="one of brand, category, attribute, and a factor: above 1 "
        "lifts, below 1 buries",
    )  # fmt: skip
    redirect = serializers.CharField(
        required=False, allow_null=True,
        help_text="an http(s) URL or a path of this site: the search answers with it, no results",
    )  # fmt: skip
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    enabled = serializers.BooleanField(required=False, default=True)


def _refused(exc: SynonymsInvalid | RuleInvalid) -> Response:
    return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)


class SynonymListView(APIView):
    """Synonym sets: list them, or add one."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: SynonymSetSerializer(many=True), 403: NOT_STAFF})
    def get(self, request: Request) -> Response:
        return Response([synonym_set_data(s) for s in SynonymSet.objects.order_by("id")])

    @extend_schema(
        request=SynonymSetSerializer, responses={201: SynonymSetSerializer, 400: REFUSED}
    )
    def post(self, request: Request) -> Response:
        try:
            synonym_set = save_synonym_set(data=request.data)
        except SynonymsInvalid as exc:
            return _refused(exc)
        return Response(synonym_set_data(synonym_set), status=status.HTTP_201_CREATED)


class SynonymDetailView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={200: SynonymSetSerializer, 404: OpenApiResponse(description="No such set")}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(synonym_set_data(get_object_or_404(SynonymSet, pk=pk)))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        delete_synonym_set(synonym_set=get_object_or_404(SynonymSet, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SynonymCsvView(APIView):
    """The sets as CSV (GET), or more sets from a CSV (POST: a `file` upload or a text/csv
    body): all of a file's sets are added, or none."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="from,terms rows")})
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(export_csv(SynonymSet.objects.order_by("id")), "text/csv")
        response["Content-Disposition"] = 'attachment; filename="synonyms.csv"'
        return response

    @extend_schema(
        request={"multipart/form-data": SynonymCsvIn},
        responses={200: SynonymsImported, 400: REFUSED},
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"file": ["send the CSV as a file named file"]}, status=400)
        try:
            text = upload.read(5_000_001).decode("utf-8-sig")
        except UnicodeDecodeError:
            return Response({"file": ["the CSV must be UTF-8 text"]}, status=400)
        try:
            added = import_csv(text=text)
        except SynonymsInvalid as exc:
            return _refused(exc)
        return Response({"added": added})


class RuleListView(APIView):
    """Merchandising rules: list them, or add one."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: RuleSerializer(many=True), 403: NOT_STAFF})
    def get(self, request: Request) -> Response:
        return Response([rule_data(r) for r in MerchandisingRule.objects.order_by("id")])

    @extend_schema(request=RuleSerializer, responses={201: RuleSerializer, 400: REFUSED})
    def post(self, request: Request) -> Response:
        try:
            rule = save_rule(data=request.data)
        except RuleInvalid as exc:
            return _refused(exc)
        return Response(rule_data(rule), status=status.HTTP_201_CREATED)


class RuleDetailView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={200: RuleSerializer, 404: OpenApiResponse(description="No such rule")}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(rule_data(get_object_or_404(MerchandisingRule, pk=pk)))

    @extend_schema(request=RuleSerializer, responses={200: RuleSerializer, 400: REFUSED})
    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(MerchandisingRule, pk=pk)
        try:
            rule = update_rule(rule=rule, changes=request.data)
        except RuleInvalid as exc:
            return _refused(exc)
        return Response(rule_data(rule))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        delete_rule(rule=get_object_or_404(MerchandisingRule, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
