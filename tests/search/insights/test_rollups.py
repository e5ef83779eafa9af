"""Raw events become the daily rows the dashboard reads: per query (searches, zero-result
searches, searches with a click, clicks and their positions, carts, purchases, visitors, the
latency histogram), per product and per day. Recomputing changes nothing; the drain's count
of lost events survives it; old raw events are purged and their rollups stay."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from search.insights.models import (
    HISTOGRAM_SIZE,
    LATENCY_BUCKETS_MS,
    InsightsDay,
    ProductDay,
    QueryDay,
    ResultEvent,
    SearchEvent,
)
from search.insights.rollups import (
    latency_bucket,
    purge_old_events,
    roll_up_day,
    roll_up_recent,
)

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 14)
UTC = ZoneInfo("UTC")


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def search(query: str, *, day: date = DAY, hour: int = 12, count: int = 3, ms: float = 12.0,
           visitor: str = "v1", photo: bool = False) -> uuid.UUID:  # fmt: skip
    search_id = uuid.uuid4()
    SearchEvent.objects.create(
        search_id=search_id, created_at=at(day, hour), source="api", query=query,
        normalised_query=query.lower(), photo=photo, mode="hybrid", result_count=count,
        zero_results=count == 0, shown=["A", "B", "C"] if count else [], first_position=1,
        latency_ms=ms, visitor=visitor,
    )  # fmt: skip
    return search_id


def event(search_id: uuid.UUID, kind: str, sku: str, position: int | None, *,
          day: date = DAY, hour: int = 13) -> None:  # fmt: skip
    query = SearchEvent.objects.get(search_id=search_id).normalised_query
    ResultEvent.objects.create(
        search_id=search_id, created_at=at(day, hour), type=kind, sku=sku, position=position,
        normalised_query=query, visitor="v1",
    )  # fmt: skip


@pytest.fixture
def a_days_traffic(db):
    """Four searches for "towel" (one with nothing found, two clicked), one for "mug"."""
    first = search("Towel", ms=4.0, visitor="v1")
    second = search("towel", ms=12.0, visitor="v2")
    search("towel", count=0, ms=700.0, visitor="v2")
    fourth = search("towel", ms=20_000.0, visitor="v3")
    mug = search("mug", ms=5.0)
    event(first, "click", "A", 1)
    event(first, "click", "C", 3)
    event(first, "add_to_cart", "C", 3)
    event(second, "click", "B", 2)
    event(fourth, "purchase", "Z", None)
    event(mug, "click", "A", 1, day=DAY + timedelta(days=1), hour=0)  # after midnight


def test_a_query_day_counts_searches_clicks_and_their_positions(a_days_traffic):
    roll_up_day(day=DAY)
    towel = QueryDay.objects.get(day=DAY, normalised_query="towel", photo=False)
    assert towel.searches == 4 and towel.zero_result_searches == 1
    assert towel.searches_with_click == 2 and towel.clicks == 3
    assert towel.click_position_sum == 1 + 3 + 2  # mean click position 2.0
    assert towel.add_to_carts == 1 and towel.purchases == 1
    assert towel.visitors == 3
    # A click after midnight counts with its search, on the search's day.
    mug = QueryDay.objects.get(day=DAY, normalised_query="mug")
    assert (mug.searches, mug.clicks, mug.searches_with_click) == (1, 1, 1)


def test_latency_histograms_count_each_search_in_its_bucket(a_days_traffic):
    roll_up_day(day=DAY)
    expected = [0] * HISTOGRAM_SIZE
    for ms in (4.0, 12.0, 700.0, 20_000.0):
        expected[latency_bucket(ms)] += 1
    towel = QueryDay.objects.get(day=DAY, normalised_query="towel")
    assert towel.latency_histogram == expected
    assert expected[0] == 1 and expected[-1] == 1  # 4 ms: the first; 20 s: past the last edge
    assert expected[LATENCY_BUCKETS_MS.index(750)] == 1  # 700 ms: up to 750
    day = InsightsDay.objects.get(day=DAY)
    assert sum(day.latency_histogram) == 5 and day.latency_histogram[0] == 2  # 4 and 5 ms


def test_an_edge_belongs_to_the_bucket_it_closes():
    assert latency_bucket(5.0) == 0 and latency_bucket(5.01) == 1
    assert latency_bucket(10_000.0) == HISTOGRAM_SIZE - 2
    assert latency_bucket(10_000.5) == HISTOGRAM_SIZE - 1


def test_the_days_totals_and_product_rows(a_days_traffic):
    roll_up_day(day=DAY)
    roll_up_day(day=DAY + timedelta(days=1))
    day = InsightsDay.objects.get(day=DAY)
    assert (day.searches, day.zero_result_searches, day.clicks) == (5, 1, 4)
    products = {
        p.sku: (p.clicks, p.add_to_carts, p.purchases) for p in ProductDay.objects.filter(day=DAY)
    }
    assert products == {"A": (1, 0, 0), "B": (1, 0, 0), "C": (1, 1, 0), "Z": (0, 0, 1)}
    # The mug click counts for its product on the day it happened.
    assert ProductDay.objects.get(day=DAY + timedelta(days=1), sku="A").clicks == 1


def test_photo_searches_are_their_own_rows(db):
    search("", photo=True)
    search("", photo=False, count=0)
    roll_up_day(day=DAY)
    assert set(QueryDay.objects.values_list("normalised_query", "photo", "searches")) == {
        ("", True, 1),
        ("", False, 1),
    }


def test_rolling_up_again_changes_nothing_and_keeps_the_lost_events(a_days_traffic):
    roll_up_day(day=DAY)
    InsightsDay.objects.filter(day=DAY).update(lost_events=7)  # what the drain added
    before = list(QueryDay.objects.order_by("pk").values())
    roll_up_day(day=DAY)
    assert list(QueryDay.objects.order_by("pk").values()) == before
    assert InsightsDay.objects.get(day=DAY).lost_events == 7
    # New events arrive: the next rollup counts them, the loss still stands.
    search("towel", visitor="v9")
    roll_up_day(day=DAY)
    assert QueryDay.objects.get(day=DAY, normalised_query="towel").searches == 5
    day = InsightsDay.objects.get(day=DAY)
    assert day.searches == 6 and day.lost_events == 7


def test_beat_rolls_up_today_and_yesterday(a_days_traffic):
    assert roll_up_recent(today=DAY + timedelta(days=1)) == [DAY, DAY + timedelta(days=1)]
    assert QueryDay.objects.filter(day=DAY).count() == 2
    assert InsightsDay.objects.filter(day=DAY + timedelta(days=1)).get().searches == 0


def test_purge_removes_only_old_raw_events_and_keeps_their_rollups(db):
    old = search("towel", day=DAY - timedelta(days=91))
    event(old, "click", "A", 1, day=DAY - timedelta(days=91))
    kept = search("towel", day=DAY - timedelta(days=89))
    report = purge_old_events(retention_days=90, today=DAY)
    assert report.days_rolled_up == 1 and (report.searches, report.results) == (1, 1)
    assert list(SearchEvent.objects.values_list("search_id", flat=True)) == [kept]
    assert not ResultEvent.objects.exists()
    # Rolled up before it went: the dashboard still has that day.
    rolled = QueryDay.objects.get(day=DAY - timedelta(days=91))
    assert (rolled.searches, rolled.clicks) == (1, 1)
    assert ProductDay.objects.get(day=DAY - timedelta(days=91), sku="A").clicks == 1


def test_a_retention_of_zero_keeps_every_raw_event(db):
    search("towel", day=DAY - timedelta(days=4000))
    assert purge_old_events(retention_days=0, today=DAY).searches == 0
    assert SearchEvent.objects.count() == 1
