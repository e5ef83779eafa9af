"""Raw events -> the daily rollups the dashboard and the JSON endpoints read (QueryDay,
ProductDay, InsightsDay), and the purge of old raw events.

Each rollup of a day is recomputed from that day's raw events in SQL and upserted, so running
it again changes nothing: Celery beat recomputes today and yesterday every minute (a click may
come after midnight, and the drain writes events a few seconds late). InsightsDay.lost_events
is the drain's (search.insights.draining) and is never recomputed here.

Days are the shop's (settings.TIME_ZONE). A search counts on its own day; its clicks, adds to
cart and purchases count with it in QueryDay and InsightsDay (so a query's click-through rate
is clicks of its searches over its searches), and on their own day in ProductDay.

Latency histograms: bucket i counts the searches whose latency is at most
LATENCY_BUCKETS_MS[i] and above the edge before; the last bucket the slower ones."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
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

SEARCHES = SearchEvent._meta.db_table
RESULTS = ResultEvent._meta.db_table


def latency_bucket(ms: float) -> int:
    """The histogram bucket of a latency (the SQL below buckets the same way)."""
    return bisect.bisect_left(LATENCY_BUCKETS_MS, ms)


def _histogram_sql() -> str:
    return (
        "ARRAY["
        + ", ".join(f"count(*) FILTER (WHERE s.bucket = {i})" for i in range(HISTOGRAM_SIZE))
        + "]"
    )


# One day's searches with their latency bucket and what shoppers did with each.
_DAY_SEARCHES = f"""
WITH s AS (
    SELECT search_id, normalised_query, photo, zero_results, visitor,
           (SELECT count(*) FROM unnest(%(edges)s::float8[]) AS edge
             WHERE edge < latency_ms) AS bucket
      FROM {SEARCHES}
     WHERE created_at >= %(start)s AND created_at < %(end)s
), r AS (
    SELECT r.search_id,
           count(*) FILTER (WHERE r.type = 'click') AS clicks,
           coalesce(sum(r.position) FILTER (WHERE r.type = 'click'), 0) AS click_positions,
           count(*) FILTER (WHERE r.type = 'add_to_cart') AS add_to_carts,
           count(*) FILTER (WHERE r.type = 'purchase') AS purchases
      FROM {RESULTS} r JOIN s ON s.search_id = r.search_id
     GROUP BY r.search_id
)
"""

_QUERY_DAYS = (
    _DAY_SEARCHES
    + f"""
INSERT INTO {QueryDay._meta.db_table} AS q
       (day, normalised_query, photo, searches, zero_result_searches, searches_with_click,
        clicks, click_position_sum, add_to_carts, purchases, visitors, latency_histogram)
SELECT %(day)s, s.normalised_query, s.photo, count(*),
       count(*) FILTER (WHERE s.zero_results),
       count(*) FILTER (WHERE r.clicks > 0),
       coalesce(sum(r.clicks), 0), coalesce(sum(r.click_positions), 0),
       coalesce(sum(r.add_to_carts), 0), coalesce(sum(r.purchases), 0),
       count(DISTINCT s.visitor), {_histogram_sql()}
  FROM s LEFT JOIN r ON r.search_id = s.search_id
 GROUP BY s.normalised_query, s.photo
ON CONFLICT (day, normalised_query, photo) DO UPDATE SET
       searches = EXCLUDED.searches,
       zero_result_searches = EXCLUDED.zero_result_searches,
       searches_with_click = EXCLUDED.searches_with_click,
       clicks = EXCLUDED.clicks,
       click_position_sum = EXCLUDED.click_position_sum,
       add_to_carts = EXCLUDED.add_to_carts,
       purchases = EXCLUDED.purchases,
       visitors = EXCLUDED.visitors,
       latency_histogram = EXCLUDED.latency_histogram
"""
)

_INSIGHTS_DAY = (
    _DAY_SEARCHES
    + f"""
INSERT INTO {InsightsDay._meta.db_table}
       (day, searches, zero_result_searches, clicks, lost_events, latency_histogram)
SELECT %(day)s, count(*), count(*) FILTER (WHERE s.zero_results),
       coalesce(sum(r.clicks), 0), 0, {_histogram_sql()}
  FROM s LEFT JOIN r ON r.search_id = s.search_id
ON CONFLICT (day) DO UPDATE SET
       searches = EXCLUDED.searches,
       zero_result_searches = EXCLUDED.zero_result_searches,
       clicks = EXCLUDED.clicks,
       latency_histogram = EXCLUDED.latency_histogram
"""
)

_PRODUCT_DAYS = f"""
INSERT INTO {ProductDay._meta.db_table} (day, sku, clicks, add_to_carts, purchases)
SELECT %(day)s, sku,
       count(*) FILTER (WHERE type = 'click'),
       count(*) FILTER (WHERE type = 'add_to_cart'),
       count(*) FILTER (WHERE type = 'purchase')
  FROM {RESULTS}
 WHERE created_at >= %(start)s AND created_at < %(end)s
 GROUP BY sku
ON CONFLICT (day, sku) DO UPDATE SET
       clicks = EXCLUDED.clicks,
       add_to_carts = EXCLUDED.add_to_carts,
       purchases = EXCLUDED.purchases
"""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The shop's day as [start, end) instants."""
    start = datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=start.tzinfo)


def roll_up_day(*, day: date) -> None:
    """Recompute one day's QueryDay, ProductDay and InsightsDay rows from its raw events."""
    start, end = day_bounds(day)
    params = {"day": day, "start": start, "end": end, "edges": list(LATENCY_BUCKETS_MS)}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_QUERY_DAYS, params)
        cursor.execute(_PRODUCT_DAYS, params)
        cursor.execute(_INSIGHTS_DAY, params)


def roll_up_recent(*, today: date | None = None) -> list[date]:
    """Beat's every-minute rollup: yesterday and today. Returns the days rolled up."""
    today = today or timezone.localdate()
    days = [today - timedelta(days=1), today]
    for day in days:
        roll_up_day(day=day)
    return days


@dataclass
class PurgeReport:
    days_rolled_up: int = 0
    searches: int = 0
    results: int = 0


def purge_old_events(*, retention_days: int, today: date | None = None) -> PurgeReport:
    """Delete raw events older than `retention_days` days (0 keeps them all), each day rolled
    up once more before its events go. The rollups stay."""
    report = PurgeReport()
    if retention_days <= 0:
        return report
    today = today or timezone.localdate()
    cutoff, _ = day_bounds(today - timedelta(days=retention_days))
    tz = settings.TIME_ZONE
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT (created_at AT TIME ZONE %s)::date FROM {SEARCHES}"
            f" WHERE created_at < %s UNION SELECT DISTINCT (created_at AT TIME ZONE %s)::date"
            f" FROM {RESULTS} WHERE created_at < %s",
            [tz, cutoff, tz, cutoff],
        )
        days = sorted(row[0] for row in cursor.fetchall())
    for day in days:
        roll_up_day(day=day)
        start, end = day_bounds(day)
        with transaction.atomic():
            report.searches += SearchEvent.objects.filter(
                created_at__gte=start, created_at__lt=min(end, cutoff)
            ).delete()[0]
            report.results += ResultEvent.objects.filter(
                created_at__gte=start, created_at__lt=min(end, cutoff)
            ).delete()[0]
        report.days_rolled_up += 1
    return report
