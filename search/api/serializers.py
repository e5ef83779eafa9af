"""The search API's serializers. The request ones describe the parameters for the OpenAPI
schema (search.query parses and checks them, for the storefront and the CLI too), except
`SearchPhotoSerializer`, which checks the POST's photo fields; the response ones are the
documented response shape (search.types.search_response_data builds it, and a test holds the
two equal)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from search.query import (
    MAX_ATTRIBUTE_CHARS,
    MAX_ATTRIBUTES,
    MAX_BRAND_CHARS,
    MAX_BRANDS,
    MAX_CATEGORY_CHARS,
    MAX_PAGE,
    MAX_RAW_QUERY_CHARS,
    MODES,
    SORTS,
)
from search.services import ALSO_LIKE, MAX_CANDIDATES
from search.types import Explanation, explanation_data


class QueryField(serializers.CharField):
    """Shoppers paste odd bytes; NUL and other control characters are stripped by
    `normalise_query` rather than refused."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class SearchQuerySerializer(serializers.Serializer):
    """GET /search's parameters, for the schema (search.query.parse_search_params reads them)."""

    q = QueryField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_RAW_QUERY_CHARS,
        help_text="What the shopper typed. Longer than VITRINE_MAX_QUERY_CHARS is cut (and said).",
    )
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(
        required=False,
        default=settings.SEARCH_PAGE_SIZE,
        min_value=1,
        max_value=settings.SEARCH_MAX_PAGE_SIZE,
    )
    rerank = serializers.BooleanField(required=False, default=True)
    mode = serializers.ChoiceField(choices=MODES, required=False, default="hybrid")
    sort = serializers.ChoiceField(choices=SORTS, required=False, default="relevance")
    category = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=MAX_CATEGORY_CHARS,
        help_text='a category path such as "home/bath"; includes its subcategories',
    )  # fmt: skip
    brand = serializers.ListField(
        child=serializers.CharField(max_length=MAX_BRAND_CHARS), required=False, default=list,
        max_length=MAX_BRANDS, help_text="repeat for several brands",
    )  # fmt: skip
    price = serializers.RegexField(
        r"^\d{1,10}(\.\d{1,2})?-(\d{1,10}(\.\d{1,2})?)?$", required=False, allow_blank=True,
        help_text='a price facet bucket as the facets name it, e.g. "25-50" or "1000-"',
    )  # fmt: skip
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    attr = serializers.ListField(
        child=serializers.CharField(max_length=MAX_ATTRIBUTE_CHARS), required=False,
        default=list, max_length=MAX_ATTRIBUTES,
        help_text='attribute filters as name:value, e.g. "color:red"; repeat for several',
    )  # fmt: skip
    explain = serializers.BooleanField(
        required=False, default=False,
        help_text="staff only (403 otherwise): each result says why it ranked where it did,"
        " stage by stage (`explain` in each result)",
    )  # fmt: skip
    correct = serializers.BooleanField(
        required=False, default=True,
        help_text="false: search the words exactly as typed (no typo correction; the"
        " correction is then offered as `suggestion`)",
    )  # fmt: skip


class SearchPhotoSerializer(serializers.Serializer):
    """The photo of a POST /search: checked here, decoded by search.photos."""

    image = serializers.FileField(required=False, help_text="the photo, as a multipart file")
    image_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)
    image_base64 = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=True,
        help_text="the photo's bytes in base64 (a data: URI is accepted)",
    )  # fmt: skip


class SearchPostSerializer(SearchQuerySerializer, SearchPhotoSerializer):
    """A photo search, for the schema: multipart (`image` file and/or `q`) or JSON
    (`image_url` or `image_base64`, and/or `q`)."""

    q = QueryField(required=False, allow_blank=True, default="", max_length=MAX_RAW_QUERY_CHARS)


class KeywordStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["keyword"])
    score = serializers.FloatField(allow_null=True, help_text="null: the leg did not return it")
    rank = serializers.IntegerField(allow_null=True, help_text="its place in the keyword leg")
    matched_words = serializers.ListField(
        child=serializers.CharField(),
        help_text="the query's words (stemmed as the leg stems them) its document holds",
    )
    matched_in = serializers.DictField(
        child=serializers.CharField(),
        help_text="each matched word's strongest field: name, brand or category, attributes,"
        " description",
    )
    trigram_similarity = serializers.FloatField(
        allow_null=True, help_text="the query's similarity to its name, brand and SKU"
    )


class VectorStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["vector"])
    similarity = serializers.FloatField(allow_null=True, help_text="cosine similarity")
    rank = serializers.IntegerField(
        allow_null=True, help_text="its place among the nearest neighbours (null: outside)"
    )


class FusionStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["fusion"])
    method = serializers.ChoiceField(choices=["convex", "rrf"])
    score = serializers.FloatField()
    rank = serializers.IntegerField(help_text="its place by the fused score alone")
    contributions = serializers.DictField(
        child=serializers.FloatField(),
        help_text='each leg\'s part of the score ("keyword", "vector")',
    )


class ExactMatchStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["exact_match"])
    field = serializers.ChoiceField(choices=["sku", "brand"])
    rank = serializers.IntegerField()
    moved = serializers.IntegerField(help_text="places gained over the score alone")


class ClickBoostStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["click_boost"])
    boost = serializers.FloatField(help_text="what shoppers' clicks added to its score")
    rank = serializers.IntegerField()
    moved = serializers.IntegerField(help_text="places gained by the click boost")


class RerankStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["rerank"])
    score = serializers.FloatField(allow_null=True, help_text="null: below the reranked top")
    rank = serializers.IntegerField()
    moved = serializers.IntegerField(help_text="places gained by the rerank")


class RuleStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["rule"])
    action = serializers.ChoiceField(choices=["pinned", "boosted", "buried"])
    rules = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), help_text="the rules' ids"
    )
    rank = serializers.IntegerField(help_text="its place after the rules")
    moved = serializers.IntegerField(
        allow_null=True, help_text="places gained (null: a pin brought it, unranked)"
    )


class SortStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["sort"])
    by = serializers.ChoiceField(choices=[s for s in SORTS if s != "relevance"])
    rank = serializers.IntegerField()


class ExplanationSerializer(serializers.Serializer):
    """Why a result ranked where it did: the stages that placed it, in pipeline order (only
    the stages that ran: a vector-mode search has no keyword stage)."""

    position = serializers.IntegerField(help_text="its place in the whole ranked list")
    stages = PolymorphicProxySerializer(
        component_name="ExplainStage",
        serializers={
            "keyword": KeywordStageSerializer,
            "vector": VectorStageSerializer,
            "fusion": FusionStageSerializer,
            "exact_match": ExactMatchStageSerializer,
            "click_boost": ClickBoostStageSerializer,
            "rerank": RerankStageSerializer,
            "rule": RuleStageSerializer,
            "sort": SortStageSerializer,
        },
        resource_type_field_name="stage",
        many=True,
    )


@extend_schema_field(ExplanationSerializer)
class ExplanationField(serializers.Field):
    """A hit's explanation, as search.types.explanation_data writes it."""

    def to_representation(self, value: Explanation) -> dict:
        return explanation_data(value)


class SearchHitSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=False
    )
    currency = serializers.CharField()
    url = serializers.CharField()
    image = serializers.CharField(allow_null=True)
    score = serializers.FloatField()
    retrieval_score = serializers.FloatField()
    rerank_score = serializers.FloatField(allow_null=True)
    explain = ExplanationField(
        source="explanation", required=False,
        help_text="why it ranked here: only when staff ask (explain=1)",
    )  # fmt: skip

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        if data.get("explain") is None:  # not asked: absent, not null
            data.pop("explain", None)
        return data


class TimingsSerializer(serializers.Serializer):
    encode = serializers.FloatField()
    retrieve = serializers.FloatField()
    rerank = serializers.FloatField()
    total = serializers.FloatField()


class ModelInfoSerializer(serializers.Serializer):
    embedder = serializers.CharField()
    embedder_revision = serializers.CharField(allow_null=True)
    modalities = serializers.ListField(child=serializers.CharField())
    reranker = serializers.CharField(allow_null=True)


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class FacetSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    values = FacetValueSerializer(many=True)


class AppliedRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    match = serializers.ChoiceField(choices=["exact", "contains", "category"])
    query = serializers.CharField(help_text="the rule's query (exact or contains)")
    category = serializers.CharField(help_text="the rule's category (category rules)")
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=["pin", "hide", "boost", "redirect"])
    )


class AppliedSynonymSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the synonym set")
    matched = serializers.CharField(help_text="the query's words it matched")
    alternatives = serializers.ListField(
        child=serializers.CharField(), help_text="what the keyword leg also searched for"
    )


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    query_truncated = serializers.BooleanField()
    results = SearchHitSerializer(many=True)
    count = serializers.IntegerField(
        help_text=(
            "How many products match: exact SKU/brand matches, products holding most of the "
            "query's words and at least half its information (words weighed by rarity), and "
            "products close in meaning (at least a third of the way from the query's mean "
            "similarity to the catalog up to its best hit's). At most the ranking depth "
            f"({MAX_CANDIDATES}). `results` pages through these, in ranking order. See "
            'README, "Result counts".'
        )
    )
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    timings_ms = TimingsSerializer()
    model = ModelInfoSerializer()
    notices = serializers.ListField(child=serializers.CharField())
    facets = FacetSerializer(many=True)
    mode = serializers.CharField(help_text="what answered (lexical if the model was unavailable)")
    sort = serializers.CharField()
    suggestion = serializers.CharField(allow_null=True, help_text='"did you mean" for typos')
    corrected_query = serializers.CharField(
        allow_null=True,
        help_text=(
            "The query searched instead of `query` when its misspelt words were corrected "
            "(`notices` says so); null when searched as typed. Send `correct=false` to search "
            "the words exactly as typed."
        ),
    )
    also_like = SearchHitSerializer(
        many=True,
        help_text=(
            f"Weaker matches, not in `count`: the best {ALSO_LIKE} or fewer ranked products "
            "that did not count, in ranking order, on the page where the counted results end "
            "(page 1 when none counted); empty on other pages. The storefront shows them as "
            '"You might also like".'
        ),
    )
    search_id = serializers.UUIDField(
        allow_null=True,
        help_text=(
            "This search's id in search insights: name it in POST /api/v1/events when the "
            "shopper clicks a result, adds it to the cart or buys it. null when search "
            "insights are off (VITRINE_ANALYTICS=0) or could not record this search."
        ),
    )
    redirect = serializers.CharField(
        allow_null=True,
        help_text=(
            "Where a merchandising rule sends this query (a URL or a path of the shop): "
            "show that page; `results` is empty then. null otherwise."
        ),
    )
    applied_rules = AppliedRuleSerializer(
        many=True, help_text="the merchandising rules that acted on this search, in order"
    )
    applied_synonyms = AppliedSynonymSerializer(
        many=True, help_text="the synonyms the keyword leg also searched for"
    )


class SimilarProductsSerializer(serializers.Serializer):
    sku = serializers.CharField()
    results = SearchHitSerializer(many=True)
