"""The numbers the dashboard and the JSON endpoints show, on rows written as the rollups
and the recording would write them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import services as catalog
from search.insights import selectors
from search.insights.periods import parse_period
from search.insights.selectors import histogram_percentile
from tests.support.insights import (
    click,
    days_ago,
    histogram,
    insights_day,
    product_day,
    query_day,
    search_event,
    today,
)

pytestmark = pytest.mark.django_db

WEEK = "7d"


def week():
    return parse_period(period=WEEK)


def test_percentiles_are_interpolated_inside_the_bucket_that_holds_them():
    # 40 searches in (30, 50] ms and 4 in (50, 75]: the median is 22.5/40 of the way up.
    counts = histogram(ms_50=40, ms_75=4, over=1)
    assert histogram_percentile(counts, 0.5) == pytest.approx(30 + 20 * 22.5 / 40)
    assert histogram_percentile(counts, 0.95) == pytest.approx(50 + 25 * (42.75 - 40) / 4)


def test_searches_slower_than_the_last_edge_count_as_that_edge_and_nothing_is_none():
    assert histogram_percentile(histogram(over=3), 0.5) == 10000
    assert histogram_percentile(histogram(), 0.5) is None


def test_week_summary_sums_the_days_of_the_period_only(busy_week):
    summary = selectors.insights_summary(period=week())
    assert summary.searches == 72  # the 1000 towel searches of 7 days ago are outside
    assert summary.zero_result_searches == 9
    assert summary.zero_result_rate == pytest.approx(9 / 72)
    assert summary.click_through_rate == pytest.approx(26 / 72)
    assert summary.mean_click_position == pytest.approx(62 / 31)
    assert summary.lost_events == 4  # the 50 lost 9 days ago are outside
    # p50/p95 come from the days' latency histograms summed.
    assert summary.p50_ms == pytest.approx(41.25)
    assert summary.p95_ms == pytest.approx(50 + 25 * 2.75 / 4)


def test_week_series_has_every_day_oldest_first_with_empty_days_at_zero(busy_week):
    summary = selectors.insights_summary(period=week())
    assert summary.series_unit == "day"
    assert [p.start.date() for p in summary.series] == [days_ago(n) for n in range(6, -1, -1)]
    assert [p.searches for p in summary.series] == [10, 0, 0, 4, 12, 5, 41]
    assert summary.series[-1].zero_result_searches == 8


def test_empty_period_has_no_rates_rather_than_zero_division(db):
    summary = selectors.insights_summary(period=parse_period(period="30d"))
    assert (summary.searches, summary.lost_events) == (0, 0)
    assert summary.click_through_rate is None and summary.p95_ms is None
    assert len(summary.series) == 30


def test_query_table_by_count_merges_photo_queries_into_one_row(busy_week):
    rows = selectors.query_table(period=week(), order="count")
    assert [(r.label, r.searches) for r in rows] == [
        ("towel", 40),
        ("blue mug", 12),
        ("unicorn saddle", 8),
        ("(photo queries)", 7),
        ("lamp", 5),
    ]
    towel = rows[0]
    assert towel.click_through_rate == pytest.approx(0.5)
    assert towel.mean_click_position == pytest.approx(55 / 25)
    photo = rows[3]
    assert photo.photo and photo.query == "" and photo.zero_result_searches == 1


def test_query_table_orders_by_zero_results_click_through_and_p95(busy_week):
    def labels(order):
        return [r.label for r in selectors.query_table(period=week(), order=order)]

    assert labels("zero")[:2] == ["unicorn saddle", "(photo queries)"]
    assert labels("ctr")[:3] == ["lamp", "towel", "(photo queries)"]
    slow = selectors.query_table(period=week(), order="slow")
    assert slow[0].label == "lamp"
    assert slow[0].p95_ms == pytest.approx(1000 + 500 * 0.95)
    assert slow[1].p95_ms == pytest.approx(30 + 20 * 0.95)


def test_limit_cuts_the_table_after_ordering(busy_week):
    rows = selectors.query_table(period=week(), order="count", limit=2)
    assert [r.label for r in rows] == ["towel", "blue mug"]


def test_slowest_queries_leave_out_queries_searched_too_rarely_to_time(busy_week):
    query_day(today(), "rare and slow", searches=1, latency=histogram(over=1))
    assert "rare and slow" not in [r.query for r in selectors.slowest_queries(period=week())]
    assert "rare and slow" in [r.query for r in selectors.query_table(period=week())]


def test_zero_result_and_unclicked_lists(busy_week):
    zero = selectors.zero_result_queries(period=week())
    assert [(r.label, r.zero_result_searches) for r in zero] == [
        ("unicorn saddle", 8),
        ("(photo queries)", 1),
    ]
    # Searches that showed results and got no click; a query that only ever found nothing
    # is in the list above, not here.
    assert [r.label for r in selectors.unclicked_queries(period=week())] == ["blue mug"]


def test_custom_period_reads_exactly_its_days_even_past_raw_retention(db):
    query_day(days_ago(200), "snow boots", searches=7)
    query_day(days_ago(199), "snow boots", searches=2)
    query_day(days_ago(198), "snow boots", searches=100)
    period = parse_period(date_from=days_ago(200).isoformat(), date_to=days_ago(199).isoformat())
    assert selectors.insights_summary(period=period).searches == 9
    assert [r.searches for r in selectors.query_table(period=period)] == [9]


def test_last_24_hours_reads_raw_events_live(db):
    now = timezone.now()
    towel = [search_event("Towel", latency_ms=ms) for ms in (10, 20, 30, 40, 100)]
    click(towel[0], "TWL-1", 1)
    click(towel[0], "TWL-2", 3)
    click(towel[1], "TWL-1", 2)
    search_event("unicorn saddle", zero=True)
    search_event("", photo=True)
    search_event("red shirt", photo=True)
    search_event("towel", at=now - timedelta(hours=25))  # older than the window
    period = parse_period(period="24h")

    summary = selectors.insights_summary(period=period)
    assert summary.searches == 8
    assert summary.zero_result_searches == 1
    assert summary.searches_with_click == 2
    assert summary.mean_click_position == pytest.approx(6 / 3)
    assert summary.series_unit == "hour"
    assert 24 <= len(summary.series) <= 25
    assert sum(p.searches for p in summary.series) == 8

    rows = {r.label: r for r in selectors.query_table(period=period)}
    assert rows["towel"].searches == 5
    assert rows["towel"].click_through_rate == pytest.approx(2 / 5)
    assert rows["towel"].p50_ms == pytest.approx(30)  # exact on raw events
    assert rows["(photo queries)"].searches == 2
    assert [r.label for r in selectors.zero_result_queries(period=period)] == ["unicorn saddle"]


def test_top_clicked_products_name_the_products_still_in_the_catalog(db):
    catalog.upsert_product(sku="TWL-1", name="Plush cotton bath towel", price="12.50")
    product_day(today(), "TWL-1", clicks=4, carts=1)
    product_day(days_ago(1), "TWL-1", clicks=3, purchases=1)
    product_day(today(), "GONE-1", clicks=5)
    product_day(today(), "NEVER-CLICKED", carts=2)
    rows = selectors.top_clicked_products(period=week())
    assert [(r.sku, r.name, r.clicks) for r in rows] == [
        ("TWL-1", "Plush cotton bath towel", 7),
        ("GONE-1", None, 5),
    ]
    assert (rows[0].add_to_carts, rows[0].purchases) == (1, 1)
    assert rows[0].url == "/products/TWL-1/" and rows[1].url is None


def test_top_clicked_products_over_24_hours_count_raw_clicks(db):
    search = search_event("towel", shown=["TWL-1", "TWL-2"])
    click(search, "TWL-2", 2)
    click(search, "TWL-2", 2)
    click(search, "TWL-1", 1, type="add_to_cart")
    rows = selectors.top_clicked_products(period=parse_period(period="24h"))
    assert [(r.sku, r.clicks) for r in rows] == [("TWL-2", 2)]


def test_lost_events_are_counted_even_without_any_search(db):
    insights_day(today(), lost=12)
    assert selectors.insights_summary(period=week()).lost_events == 12
    assert selectors.insights_summary(period=parse_period(period="24h")).lost_events == 12
