from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers


class QueryField(serializers.CharField):
    """Shoppers paste odd bytes; NUL and other control characters are stripped by
    `normalise_query` rather than refused."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class SearchQuerySerializer(serializers.Serializer):
    q = QueryField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=100_000,
        help_text="What the shopper typed. Longer than VITRINE_MAX_QUERY_CHARS is cut (and said).",
    )
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000)
    page_size = serializers.IntegerField(
        required=False,
        default=settings.SEARCH_PAGE_SIZE,
        min_value=1,
        max_value=settings.SEARCH_MAX_PAGE_SIZE,
    )
    rerank = serializers.BooleanField(required=False, default=True)


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


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    query_truncated = serializers.BooleanField()
    results = SearchHitSerializer(many=True)
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    timings_ms = TimingsSerializer()
    model = ModelInfoSerializer()
