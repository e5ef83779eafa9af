from dataclasses import asdict

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

from search.services import MODES, SORTS, SearchHit, SearchResponse


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
    mode = serializers.ChoiceField(choices=MODES, required=False, default="hybrid")
    sort = serializers.ChoiceField(choices=SORTS, required=False, default="relevance")
    category = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=1000,
        help_text='a category path such as "home/bath"; includes its subcategories',
    )  # fmt: skip
    brand = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=50,
        help_text="repeat for several brands",
    )  # fmt: skip
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    attr = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list, max_length=20,
        help_text='attribute filters as name:value, e.g. "color:red"; repeat for several',
    )  # fmt: skip


class SearchPostSerializer(SearchQuerySerializer):
    """A photo search: multipart (`image` file and/or `q`) or JSON (`image_url` or
    `image_base64`, and/or `q`)."""

    q = QueryField(required=False, allow_blank=True, default="", max_length=100_000)
    image = serializers.FileField(required=False, help_text="the photo, as a multipart file")
    image_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)
    image_base64 = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=True,
        help_text="the photo's bytes in base64 (a data: URI is accepted)",
    )  # fmt: skip


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


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class FacetSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    values = FacetValueSerializer(many=True)


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
    notices = serializers.ListField(child=serializers.CharField())
    facets = FacetSerializer(many=True)
    mode = serializers.CharField(help_text="what answered (lexical if the model was unavailable)")
    sort = serializers.CharField()
    suggestion = serializers.CharField(allow_null=True, help_text='"did you mean" for typos')


class SimilarProductsSerializer(serializers.Serializer):
    sku = serializers.CharField()
    results = SearchHitSerializer(many=True)


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


def search_response_data(result: SearchResponse) -> dict:
    """What SearchResponseSerializer(result).data gives (the serializer stays the API's
    documented shape; tests/search/test_api_response.py holds the two equal), built directly:
    DRF's field-by-field walk took ~0.8 ms of an uncached search, for a few dozen values."""
    return {
        "query": result.query,
        "query_truncated": result.query_truncated,
        "results": [search_hit_data(hit) for hit in result.results],
        "count": result.count,
        "page": result.page,
        "page_size": result.page_size,
        "num_pages": result.num_pages,
        "timings_ms": result.timings_ms,
        "model": result.model,
        "notices": result.notices,
        "facets": [asdict(facet) for facet in result.facets],
        "mode": result.mode,
        "sort": result.sort,
        "suggestion": result.suggestion,
    }
