"""What the shop sees of its search: the numbers behind the admin's "Search insights" page,
its CSV export and the JSON endpoints (one set of functions, so they always agree).

A period of 24 h reads the raw events of the last 24 hours, so it is live; its percentiles
are exact (PostgreSQL's percentile_cont over the searches' latencies). Longer periods read
the daily rollups, summed in the database; their p50/p95 come from the summed latency
histograms, interpolated linearly inside the bucket that holds the percentile (searches in
the overflow bucket, slower than the last edge, count as that edge: a floor, not a guess).

Photo queries are one row (`photo=True`, query ""), whatever text came with the photo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, Sum

from catalog.models import Product, product_url
from search.insights.models import (
    HISTOGRAM_SIZE,
    LATENCY_BUCKETS_MS,
    InsightsDay,
    ProductDay,
    QueryDay,
    ResultEvent,
    SearchEvent,
)
from search.insights.periods import DEFAULT_LIMIT, Period

# A percentile of one or two searches says little: the slowest-queries order ranks only
# queries searched at least this often, among the most searched ones (a bounded amount of
# histogram work whatever the shop's long tail of queries).
MIN_SEARCHES_FOR_LATENCY = 3
SLOW_CANDIDATES = 2000


def histogram_percentile(histogram: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) of latencies counted in LATENCY_BUCKETS_MS buckets (+ overflow),
    interpolated linearly inside its bucket; None when nothing was counted."""
    total = sum(histogram)
    if total <= 0:
        return None
    target = q * total
    seen = 0
    for i, count in enumerate(histogram):
        if count and seen + count >= target:
            if i >= len(LATENCY_BUCKETS_MS):  # the overflow bucket has no upper edge
                return float(LATENCY_BUCKETS_MS[-1])
            low = LATENCY_BUCKETS_MS[i - 1] if i else 0
            high = LATENCY_BUCKETS_MS[i]
            return low + (high - low) * max(0.0, target - seen) / count
        seen += count
    return float(LATENCY_BUCKETS_MS[-1])


def sum_histograms(histograms: Sequence[Sequence[int]]) -> list[int]:
    total = [0] * HISTOGRAM_SIZE
    for histogram in histograms:
        for i, count in enumerate(histogram[:HISTOGRAM_SIZE]):
            total[i] += count or 0
    return total


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class _Rates:
    """The rates the dashboard shows, from the counts a query row or a summary holds."""

    searches: int
    zero_result_searches: int
    searches_with_click: int
    clicks: int
    click_position_sum: int

    @property
    def zero_result_rate(self) -> float | None:
        return _ratio(self.zero_result_searches, self.searches)

    @property
    def click_through_rate(self) -> float | None:
        return _ratio(self.searches_with_click, self.searches)

    @property
    def mean_click_position(self) -> float | None:
        return _ratio(self.click_position_sum, self.clicks)


@dataclass(frozen=True)
class QueryRow(_Rates):
    """One (normalised) query over a period, or all photo queries together."""

    query: str
    photo: bool
    searches: int
    zero_result_searches: int
    searches_with_click: int
    clicks: int
    click_position_sum: int
    p50_ms: float | None = None
    p95_ms: float | None = None

    @property
    def label(self) -> str:
        if self.photo:
            return "(photo queries)"
        return self.query or "(empty query)"


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime  # of the hour (24 h) or the UTC day
    searches: int
    zero_result_searches: int


@dataclass(frozen=True)
class Summary(_Rates):
    period: Period
    searches: int
    zero_result_searches: int
    searches_with_click: int
    clicks: int
    click_position_sum: int
    p50_ms: float | None
    p95_ms: float | None
    lost_events: int  # events that could not be recorded (Redis down): shown, never hidden
    series_unit: str  # "hour" (24 h) or "day"
    series: list[SeriesPoint] = field(default_factory=list)


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str | None  # None when the product no longer exists
    clicks: int
    add_to_carts: int
    purchases: int

    @property
    def url(self) -> str | None:
        return product_url(self.sku) if self.name is not None else None


# ---- summary ---------------------------------------------------------------------------


def _lost_events(period: Period) -> int:
    """Losses are counted per UTC day; the 24 h period shows those of the days it touches."""
    days = InsightsDay.objects.filter(day__range=(period.first_day, period.last_day))
    return days.aggregate(lost=Sum("lost_events"))["lost"] or 0


def _rollup_summary(period: Period) -> Summary:
    per_day = {
        row["day"]: row
        for row in QueryDay.objects.filter(day__range=(period.first_day, period.last_day))
        .values("day")
        .annotate(
            s=Sum("searches"),
            z=Sum("zero_result_searches"),
            wc=Sum("searches_with_click"),
            c=Sum("clicks"),
            p=Sum("click_position_sum"),
        )
        .order_by()
    }
    totals = {k: sum(row[k] or 0 for row in per_day.values()) for k in ("s", "z", "wc", "c", "p")}
    histogram = sum_histograms(
        InsightsDay.objects.filter(day__range=(period.first_day, period.last_day)).values_list(
            "latency_histogram", flat=True
        )
    )
    series = [
        SeriesPoint(
            start=datetime(day.year, day.month, day.day, tzinfo=UTC),
            searches=(per_day.get(day) or {}).get("s") or 0,
            zero_result_searches=(per_day.get(day) or {}).get("z") or 0,
        )
        for day in period.days
    ]
    return Summary(
        period=period,
        searches=totals["s"],
        zero_result_searches=totals["z"],
        searches_with_click=totals["wc"],
        clicks=totals["c"],
        click_position_sum=totals["p"],
        p50_ms=histogram_percentile(histogram, 0.5),
        p95_ms=histogram_percentile(histogram, 0.95),
        lost_events=_lost_events(period),
        series_unit="day",
        series=series,
    )


def _live_searches_sql(select: str, group_by: str = "") -> str:
    """Searches of the window with their clicks (clicks counted on the searches made in the
    window, whenever they came), for the live 24 h period."""
    return f"""
        WITH s AS (
            SELECT search_id, created_at, photo, zero_results, latency_ms,
                   CASE WHEN photo THEN '' ELSE normalised_query END AS q
            FROM {SearchEvent._meta.db_table}
            WHERE created_at >= %(start)s AND created_at < %(end)s
        ), c AS (
            SELECT r.search_id, count(*) AS clicks, coalesce(sum(r.position), 0) AS positions
            FROM {ResultEvent._meta.db_table} r JOIN s ON s.search_id = r.search_id
            WHERE r.type = 'click'
            GROUP BY r.search_id
        )
        SELECT {select}
        FROM s LEFT JOIN c ON c.search_id = s.search_id
        {group_by}
    """


_LIVE_TOTALS = """
    count(*), count(*) FILTER (WHERE s.zero_results), count(c.search_id),
    coalesce(sum(c.clicks), 0)::bigint, coalesce(sum(c.positions), 0)::bigint,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_ms),
    percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms)
"""


def _live_summary(period: Period) -> Summary:
    window = {"start": period.start, "end": period.end}
    with connection.cursor() as cursor:
        cursor.execute(_live_searches_sql(_LIVE_TOTALS), window)
        searches, zero, with_click, clicks, positions, p50, p95 = cursor.fetchone()
        cursor.execute(
            f"""SELECT date_trunc('hour', created_at), count(*),
                       count(*) FILTER (WHERE zero_results)
                FROM {SearchEvent._meta.db_table}
                WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1""",
            window,
        )
        per_hour = {start.astimezone(UTC): (n, z) for start, n, z in cursor.fetchall()}
    hour = period.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    series = []
    while hour < period.end:
        n, z = per_hour.get(hour, (0, 0))
        series.append(SeriesPoint(start=hour, searches=n, zero_result_searches=z))
        hour += timedelta(hours=1)
    return Summary(
        period=period,
        searches=searches,
        zero_result_searches=zero,
        searches_with_click=with_click,
        clicks=clicks,
        click_position_sum=positions,
        p50_ms=p50,
        p95_ms=p95,
        lost_events=_lost_events(period),
        series_unit="hour",
        series=series,
    )


def insights_summary(*, period: Period) -> Summary:
    """Totals, rates, latency percentiles, lost events and the searches-over-time series."""
    return _live_summary(period) if period.live else _rollup_summary(period)


# ---- queries ---------------------------------------------------------------------------

# (filter, order) of each list; fixed SQL fragments over the grouped columns below.
_ZERO_RATE = "zero_result_searches::float / NULLIF(searches, 0)"
_CTR = "searches_with_click::float / NULLIF(searches, 0)"
_ORDERS = {
    "count": ("TRUE", "searches DESC, q, photo"),
    "zero": ("TRUE", f"zero_result_searches DESC, {_ZERO_RATE} DESC NULLS LAST, searches DESC, q"),
    "ctr": ("TRUE", f"{_CTR} DESC NULLS LAST, searches DESC, q"),
    "slow": (
        f"searches >= {MIN_SEARCHES_FOR_LATENCY}",
        "p95 DESC NULLS LAST, searches DESC, q",
    ),
    "zero_only": ("zero_result_searches > 0", f"zero_result_searches DESC, {_ZERO_RATE} DESC, q"),
    "unclicked": (
        "searches_with_click = 0 AND searches > zero_result_searches",
        "searches DESC, q",
    ),
}
_GROUPED = (
    "q, photo, searches, zero_result_searches, searches_with_click, clicks, click_position_sum"
)


def _live_query_rows(period: Period, order: str, limit: int) -> list[QueryRow]:
    where, order_by = _ORDERS[order]
    grouped = _live_searches_sql(
        """s.q, s.photo, count(*) AS searches,
           count(*) FILTER (WHERE s.zero_results) AS zero_result_searches,
           count(c.search_id) AS searches_with_click,
           coalesce(sum(c.clicks), 0)::bigint AS clicks,
           coalesce(sum(c.positions), 0)::bigint AS click_position_sum,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_ms) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms) AS p95""",
        "GROUP BY s.q, s.photo",
    )
    sql = f"""SELECT {_GROUPED}, p50, p95 FROM ({grouped}) g
              WHERE {where} ORDER BY {order_by} LIMIT %(limit)s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": period.start, "end": period.end, "limit": limit})
        return [QueryRow(*row) for row in cursor.fetchall()]


# Histograms summed element-wise in SQL: one sum per bucket (cheaper than unnesting them).
_HISTOGRAM_SUMS = ", ".join(f"sum(latency_histogram[{i}])" for i in range(1, HISTOGRAM_SIZE + 1))


def _rollup_grouped_sql(*, histograms: bool, keys: bool = False) -> str:
    """The period's QueryDay rows grouped by query (photo queries together); with the
    histograms' sums after the counts, and for `keys` only the (query, photo) keys given."""
    only = (
        "AND ((photo AND %(photo)s) OR (NOT photo AND normalised_query = ANY(%(texts)s)))"
        if keys
        else ""
    )
    return f"""
        SELECT CASE WHEN photo THEN '' ELSE normalised_query END AS q, photo,
               sum(searches) AS searches, sum(zero_result_searches) AS zero_result_searches,
               sum(searches_with_click) AS searches_with_click, sum(clicks) AS clicks,
               sum(click_position_sum) AS click_position_sum
               {", " + _HISTOGRAM_SUMS if histograms else ""}
        FROM {QueryDay._meta.db_table}
        WHERE day BETWEEN %(first)s AND %(last)s {only}
        GROUP BY 1, 2
    """


def _rollup_query_rows(period: Period, order: str, limit: int) -> list[QueryRow]:
    where, order_by = _ORDERS[order]
    slow = order == "slow"
    if slow:  # p95 comes from histograms: rank the most searched candidates in Python
        order_by, fetch = "searches DESC, q", SLOW_CANDIDATES
    else:
        fetch = limit
    days = {"first": period.first_day, "last": period.last_day}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT * FROM ({_rollup_grouped_sql(histograms=False)}) g
                WHERE {where} ORDER BY {order_by} LIMIT %(limit)s""",
            {**days, "limit": fetch},
        )
        rows = [tuple(row) for row in cursor]
        if rows:  # the histograms of these rows only
            keys = {
                "texts": [row[0] for row in rows if not row[1]],
                "photo": any(row[1] for row in rows),
            }
            cursor.execute(_rollup_grouped_sql(histograms=True, keys=True), {**days, **keys})
            histograms = {(row[0], row[1]): row[7:] for row in cursor}
            rows = [row + tuple(histograms.get((row[0], row[1]), ())) for row in rows]
    result = []
    for row in rows:
        histogram = [int(n or 0) for n in row[7:]]
        result.append(
            QueryRow(
                *row[:7],
                p50_ms=histogram_percentile(histogram, 0.5),
                p95_ms=histogram_percentile(histogram, 0.95),
            )
        )
    if slow:
        result.sort(key=lambda r: (-(r.p95_ms or 0.0), -r.searches, r.query))
    return result[:limit]


def _query_rows(period: Period, order: str, limit: int) -> list[QueryRow]:
    if period.live:
        return _live_query_rows(period, order, limit)
    return _rollup_query_rows(period, order, limit)


def query_table(
    *, period: Period, order: str = "count", limit: int = DEFAULT_LIMIT
) -> list[QueryRow]:
    """The queries of the period, ordered by `order`: count (most searched first), zero (most
    zero-result searches, then the highest zero-result rate), ctr (highest click-through
    first) or slow (highest p95 first, among queries searched at least
    MIN_SEARCHES_FOR_LATENCY times)."""
    if order not in ("count", "zero", "ctr", "slow"):
        raise ValueError(f"unknown order {order!r}")
    return _query_rows(period, order, limit)


def zero_result_queries(*, period: Period, limit: int = DEFAULT_LIMIT) -> list[QueryRow]:
    """Queries that found nothing at least once, most zero-result searches first."""
    return _query_rows(period, "zero_only", limit)


def unclicked_queries(*, period: Period, limit: int = DEFAULT_LIMIT) -> list[QueryRow]:
    """Queries whose searches showed results and got no click at all, most searched first."""
    return _query_rows(period, "unclicked", limit)


def slowest_queries(*, period: Period, limit: int = DEFAULT_LIMIT) -> list[QueryRow]:
    return _query_rows(period, "slow", limit)


# ---- products --------------------------------------------------------------------------


def top_clicked_products(*, period: Period, limit: int = DEFAULT_LIMIT) -> list[ProductRow]:
    """Products clicked from searches, most clicks first; with their names while the SKU
    is still in the catalog."""
    if period.live:
        counts = (
            ResultEvent.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
            .values("sku")
            .annotate(
                clicks=Count("id", filter=Q(type=ResultEvent.Type.CLICK)),
                add_to_carts=Count("id", filter=Q(type=ResultEvent.Type.ADD_TO_CART)),
                purchases=Count("id", filter=Q(type=ResultEvent.Type.PURCHASE)),
            )
        )
    else:
        counts = (
            ProductDay.objects.filter(day__range=(period.first_day, period.last_day))
            .values("sku")
            .annotate(
                clicks=Sum("clicks"), add_to_carts=Sum("add_to_carts"), purchases=Sum("purchases")
            )
        )
    rows = list(
        counts.filter(clicks__gt=0).order_by("-clicks", "-add_to_carts", "-purchases", "sku")[
            :limit
        ]
    )
    names = dict(
        Product.objects.filter(sku__in=[r["sku"] for r in rows]).values_list("sku", "name")
    )
    return [
        ProductRow(
            sku=r["sku"],
            name=names.get(r["sku"]),
            clicks=r["clicks"],
            add_to_carts=r["add_to_carts"],
            purchases=r["purchases"],
        )
        for r in rows
    ]
