"""Insights rows written directly with the ORM, as the recording and the rollups would write
them (the dashboard's and the JSON endpoints' tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from search.insights.models import (
    HISTOGRAM_SIZE,
    LATENCY_BUCKETS_MS,
    InsightsDay,
    ProductDay,
    QueryDay,
    ResultEvent,
    SearchEvent,
)


def histogram(**by_edge: int) -> list[int]:
    """Counts per bucket named by its upper edge: histogram(ms_75=10); `over` = overflow."""
    counts = [0] * HISTOGRAM_SIZE
    for name, n in by_edge.items():
        i = HISTOGRAM_SIZE - 1 if name == "over" else LATENCY_BUCKETS_MS.index(int(name[3:]))
        counts[i] += n
    return counts


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def query_day(
    day: date,
    query: str,
    *,
    photo: bool = False,
    searches: int = 1,
    zero: int = 0,
    with_click: int = 0,
    clicks: int = 0,
    positions: int = 0,
    latency: list[int] | None = None,
) -> QueryDay:
    return QueryDay.objects.create(
        day=day,
        normalised_query=query,
        photo=photo,
        searches=searches,
        zero_result_searches=zero,
        searches_with_click=with_click,
        clicks=clicks,
        click_position_sum=positions,
        visitors=1,
        latency_histogram=latency or histogram(ms_50=searches),
    )


def insights_day(day: date, *, lost: int = 0, latency: list[int] | None = None, **counts):
    return InsightsDay.objects.create(
        day=day, lost_events=lost, latency_histogram=latency or histogram(), **counts
    )


def search_event(
    query: str,
    *,
    at: datetime | None = None,
    photo: bool = False,
    zero: bool = False,
    latency_ms: float = 40.0,
    shown: list[str] | None = None,
) -> SearchEvent:
    return SearchEvent.objects.create(
        search_id=uuid.uuid4(),
        created_at=at or timezone.now() - timedelta(minutes=5),
        source="storefront",
        query=query,
        normalised_query=query.lower().strip(),
        photo=photo,
        mode="hybrid",
        result_count=0 if zero else len(shown or ["X"]),
        zero_results=zero,
        shown=[] if zero else (shown or ["X"]),
        latency_ms=latency_ms,
        visitor="v" * 32,
    )


def click(search: SearchEvent, sku: str, position: int, *, type: str = "click") -> ResultEvent:
    return ResultEvent.objects.create(
        search_id=search.search_id,
        created_at=search.created_at + timedelta(seconds=10),
        type=type,
        sku=sku,
        position=position,
        normalised_query=search.normalised_query,
        visitor=search.visitor,
    )


def product_day(day: date, sku: str, *, clicks: int = 0, carts: int = 0, purchases: int = 0):
    return ProductDay.objects.create(
        day=day, sku=sku, clicks=clicks, add_to_carts=carts, purchases=purchases
    )


def write_busy_week() -> None:
    """A week of rollups: towels found and clicked, "unicorn saddle" never found, "blue mug"
    shown but never clicked, photo queries on two days, a slow "lamp", and 4 lost events."""
    query_day(today(), "towel", searches=30, with_click=15, clicks=20, positions=50)
    query_day(days_ago(6), "towel", searches=10, with_click=5, clicks=5, positions=5)
    query_day(days_ago(7), "towel", searches=1000, with_click=0)  # outside 7 days
    query_day(today(), "unicorn saddle", searches=8, zero=8)
    query_day(days_ago(2), "blue mug", searches=12)
    query_day(days_ago(1), "lamp", searches=5, with_click=5, clicks=5, positions=5,
              latency=histogram(ms_1500=5))  # fmt: skip
    query_day(today(), "red shirt", photo=True, searches=3, with_click=1, clicks=1, positions=2)
    query_day(days_ago(3), "", photo=True, searches=4, zero=1)
    insights_day(today(), lost=3, latency=histogram(ms_50=36, ms_75=4, over=1))
    insights_day(days_ago(3), lost=1, latency=histogram(ms_50=4))
    insights_day(days_ago(9), lost=50)  # outside 7 days
