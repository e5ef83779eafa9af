"""Search insights' tables. Raw events (SearchEvent, ResultEvent) are kept for
VITRINE_ANALYTICS_RETENTION_DAYS; the daily rollups stay, and are what the dashboard and
the JSON endpoints read. ClickSignal is derived from the raw events and feeds the ranking.

None of them holds a raw IP address, cookie value or user id: `visitor` is a salted hash
rotated daily, so one visitor's searches link up within a day and never across days."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

# Upper edges (ms) of the latency histogram's buckets; one more bucket counts the slower
# searches. Rollups keep counts per bucket, so p50/p95 over any period are read from sums.
LATENCY_BUCKETS_MS = (
    5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000,
)  # fmt: skip
HISTOGRAM_SIZE = len(LATENCY_BUCKETS_MS) + 1

QUERY_MAX_CHARS = 500  # longer queries are kept cut to this (search.query truncates earlier)


class Source(models.TextChoices):
    STOREFRONT = "storefront"
    API = "api"


class SearchEvent(models.Model):
    """One search as it was answered: one page of results for one query."""

    search_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    query = models.CharField(max_length=QUERY_MAX_CHARS, blank=True, help_text="as typed")
    normalised_query = models.CharField(max_length=QUERY_MAX_CHARS, blank=True)
    photo = models.BooleanField(default=False, help_text="a photo query (no image is stored)")
    mode = models.CharField(max_length=10)
    filters = models.JSONField(default=dict, blank=True)
    sort = models.CharField(max_length=20, blank=True)
    page = models.PositiveIntegerField(default=1)
    result_count = models.PositiveIntegerField()
    zero_results = models.BooleanField()
    # The SKUs on the page, in order; shown[i] was at position first_position + i.
    shown = models.JSONField(default=list, blank=True)
    first_position = models.PositiveIntegerField(default=1)
    latency_ms = models.FloatField()
    embedder = models.CharField(max_length=500, blank=True, help_text="the active model")
    visitor = models.CharField(max_length=32, help_text="salted hash, rotated daily")

    class Meta:
        indexes = [models.Index(fields=["normalised_query", "created_at"])]

    def __str__(self) -> str:
        return f"{self.search_id}: {self.query!r}"


class ResultEvent(models.Model):
    """A shopper acting on what a search showed: a click, an add to cart, a purchase."""

    class Type(models.TextChoices):
        CLICK = "click"
        ADD_TO_CART = "add_to_cart"
        PURCHASE = "purchase"

    search_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(db_index=True)
    type = models.CharField(max_length=12, choices=Type.choices)
    sku = models.CharField(max_length=200)
    # Where that search showed the SKU (1-based); null when it did not show it (a cart or
    # purchase event may name a product found another way).
    position = models.PositiveIntegerField(null=True, blank=True)
    # Copied from the search, so rollups and the click signal need no join.
    normalised_query = models.CharField(max_length=QUERY_MAX_CHARS, blank=True)
    visitor = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"{self.type} {self.sku} ({self.search_id})"


class QueryDay(models.Model):
    """One day's searches for one normalised query (photo queries apart): the rollup the
    query table, zero-result and no-click lists and slowest queries are read from."""

    day = models.DateField()
    normalised_query = models.CharField(max_length=QUERY_MAX_CHARS, blank=True)
    photo = models.BooleanField(default=False)
    searches = models.PositiveIntegerField(default=0)
    zero_result_searches = models.PositiveIntegerField(default=0)
    searches_with_click = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    click_position_sum = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0, help_text="distinct that day")
    latency_histogram = ArrayField(models.PositiveIntegerField(), size=HISTOGRAM_SIZE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "normalised_query", "photo"], name="one_query_day"
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.normalised_query!r}: {self.searches}"


class ProductDay(models.Model):
    """One day's clicks, adds to cart and purchases of one product from searches."""

    day = models.DateField()
    sku = models.CharField(max_length=200)
    clicks = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "sku"], name="one_product_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.sku}: {self.clicks}"


class InsightsDay(models.Model):
    """One day's totals, including the events that could not be recorded (Redis down): the
    dashboard shows that loss rather than hiding it."""

    day = models.DateField(unique=True)
    searches = models.PositiveIntegerField(default=0)
    zero_result_searches = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    lost_events = models.PositiveIntegerField(default=0)
    latency_histogram = ArrayField(models.PositiveIntegerField(), size=HISTOGRAM_SIZE)

    def __str__(self) -> str:
        return f"{self.day}: {self.searches} searches"


class ClickSignal(models.Model):
    """What shoppers' clicks say of a product for one normalised query ("" = over all
    queries: the product's own). `clicks` and `examinations` are corrected for position
    bias (search.insights.clicks says how); `visitors` is the evidence a boost needs;
    `boost` is what the ranking adds, already bounded."""

    normalised_query = models.CharField(max_length=QUERY_MAX_CHARS, blank=True)
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    clicks = models.FloatField(default=0)
    examinations = models.FloatField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    boost = models.FloatField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["normalised_query", "product"], name="one_click_signal")
        ]

    def __str__(self) -> str:
        return f"{self.normalised_query!r} -> {self.product_id}: {self.boost:+.3f}"
