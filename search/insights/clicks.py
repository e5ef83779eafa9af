"""The click signal: what shoppers' clicks say of a product for a query, corrected for where
the product was shown, smoothed toward "no evidence", and turned into a bounded boost that
the ranking adds (search.services; search.ranking.with_click_boosts).

The click model (refresh_click_signal, beat every VITRINE_CLICK_SIGNAL_INTERVAL_S):

- Only searches that got at least one click count. A search left without any click cannot
  say which of its results was worse (the shopper may have found the answer in the list, or
  given up on the query), and it keeps searches nobody acted on (bots, the benchmark's own
  measuring) out of the signal.
- Examination (position bias), by the cascade model (Craswell et al. 2008): a shopper reads
  a page top-down and the last click ends the reading, so a result was examined exactly
  when a click came at or below it. An unclicked one there was skipped: evidence against
  it ("click > skip above", Joachims 2002). A result below the last click says nothing:
  the shopper may have been satisfied and left (counting it as examined, as a plain
  position-based model would, turns every satisfied shopper into a skip of the good results
  below the first). So a product is compared only with the searches that reached it, which
  corrects for its position: one shown eighth is judged by the shoppers who read that far.
- One visitor, one vote: each visitor who examined a product for a query counts as one
  examination, and their clicks on it as the share of those searches in which they clicked
  it, so repeating a search, or a flood from one client, weighs no more than one shopper.
  `visitors` (and `examinations`) count them.
- Attractiveness against the query's own average: with C the clicks, E the examinations and
  r = sum C / sum E over the query's products (its click rate per examined result), the
  estimate is (C + M r) / (E + M): a Beta prior worth M = PRIOR_EXAMINATIONS examinations
  at the query's own rate, so a few observations stay near r ("no evidence"). It is
  compared with r by the odds ratio, OR = odds(estimate) / odds(r), and the signal is
  Yule's Q = (OR - 1) / (OR + 1) = tanh(difference in log-odds / 2), in (-1, 1): 0 without
  evidence, +1/2 for three times the odds. Odds, not the plain ratio of rates (clicks over
  expected clicks, made for ad click rates of a few percent): a cascade's examined results
  are clicked often, and a ratio of rates near 1 would leave a product every shopper picks
  hardly above one most shoppers pick. With r at one half, a product ten visitors skipped
  gets -1/2.
- Minimum evidence: no signal until VITRINE_CLICK_MIN_VISITORS distinct visitors examined
  the product for that query (clicked it, or something below it). A handful of clicks
  never reorders a query.
- Per product (normalised_query ""): the same over every query, with each query's clicks
  expected at its own rate. It says a product is wanted, not that it answers this query, so
  it adds PRODUCT_SHARE of itself to each query row of that product, and reaches only the
  queries whose clicked searches showed the product: a product popular for "socks" is never
  pushed into "phone case".

A row's `boost` is that sum, cut to [-1, 1]; the ranking adds VITRINE_CLICK_BOOST times it
(in units of the score spread of the query's first page: search.ranking.with_click_boosts),
so the setting bounds what clicks can do, and changing it needs no recomputation. When a
boost changes, the signal's version (in the cache) changes; each process reads it every few
seconds, and then each query's boosts again (one indexed statement, kept per process for
that version: query_clicks). A digest of a query's boosts is part of its cached ranking's
key, so learning shows on the next search while the rankings of queries whose boosts did
not change stay cached.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.models import Product
from search.insights.models import ClickSignal, ResultEvent, SearchEvent
from search.insights.recording import normalised_query

# The prior's weight, in examinations at the query's own click rate: one search examines
# about a page's top (a shopper reads until a click), so one shopper's search can move an
# estimate at most about halfway, and it takes several shoppers to move it further.
PRIOR_EXAMINATIONS = 10.0
# What part of a product's own signal (over all queries) is added to a query's row: half,
# since it is evidence about the product, not about what this query asks for.
PRODUCT_SHARE = 0.5
# A boost that moved less than this is left as it was: no new version (which would drop
# every cached ranking) for changes no ranking would show.
BOOST_STEP = 0.01
# Clicks this recent are looked at again at each refresh, whatever was seen before: a click
# whose search row was written after it (a later drain) is counted once the search is in.
LATE_SEARCH_S = 300

VERSION_KEY = "search:clicks:version"
# How long a process trusts the version it last read: a new signal reaches every process
# within this time (one cache read per process per interval, not per search).
VERSION_TTL_S = 2.0
BOOSTS_PER_PROCESS = 1024  # queries whose boosts a process keeps (for the current version)
WATERMARK_KEY = "search:clicks:watermark"


def click_query(query: str) -> str:
    """The form a query's clicks are kept under: the recording's (search events carry it)."""
    return normalised_query(query)


# --- Query time --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryClicks:
    """What clicks say for one query: product id -> boost in [-1, 1], and a digest of it
    ("" when clicks say nothing) that the query's cached ranking is keyed by."""

    boosts: dict[int, float]
    digest: str


NO_CLICKS = QueryClicks(boosts={}, digest="")


class _ProcessCache:
    """The version last read (trusted VERSION_TTL_S) and the queries' boosts read for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: str = ""
        self.read_at = -math.inf
        self.queries: OrderedDict[str, QueryClicks] = OrderedDict()


_local = _ProcessCache()


def click_signal_version() -> str:
    """The click signal's current version ("" before the first signal)."""
    now = time.monotonic()
    if now - _local.read_at < VERSION_TTL_S:
        return _local.version
    version = cache.get(VERSION_KEY) or ""
    with _local.lock:
        if version != _local.version:
            _local.queries.clear()
        _local.version, _local.read_at = version, now
    return version


def forget_click_signal() -> None:
    """Read the version and boosts afresh on the next search (tests; a new signal)."""
    with _local.lock:
        _local.version, _local.read_at = "", -math.inf
        _local.queries.clear()


def query_clicks(query: str) -> QueryClicks:
    """What clicks say for this query text. A new version of the signal costs each process
    one indexed read per query it serves; a query whose boosts did not change keeps its
    digest, so its cached ranking stays valid (only the queries clicks changed re-rank)."""
    key = click_query(query)
    if not key or not settings.VITRINE_CLICK_BOOST:
        return NO_CLICKS
    version = click_signal_version()
    if not version:
        return NO_CLICKS
    with _local.lock:
        found = _local.queries.get(key)
        if found is not None:
            _local.queries.move_to_end(key)
            return found
    # From the primary, even in a search that reads a replica: what is read here is kept
    # for the whole version, and a lagging replica's older rows would outlive its lag.
    boosts = dict(
        ClickSignal.objects.using(DEFAULT_DB_ALIAS)
        .filter(normalised_query=key)
        .exclude(boost=0)
        .values_list("product_id", "boost")
    )
    digest = ""
    if boosts:
        digest = hashlib.sha256(repr(sorted(boosts.items())).encode()).hexdigest()[:16]
    found = QueryClicks(boosts=boosts, digest=digest)
    with _local.lock:
        if _local.version == version:
            _local.queries[key] = found
            while len(_local.queries) > BOOSTS_PER_PROCESS:
                _local.queries.popitem(last=False)
    return found


# --- The signal --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Clicks and examinations of one product (for one query, or over all of them), each
    visitor weighing at most one; `expected`: the clicks the query's (or queries') own rate
    predicts for those examinations."""

    clicks: float
    examinations: float
    expected: float
    visitors: int


def signal(evidence: Evidence, *, min_visitors: int) -> float:
    """The smoothed, position-corrected signal in (-1, 1); 0 below the minimum evidence."""
    if evidence.visitors < min_visitors or evidence.examinations <= 0:
        return 0.0
    rate = evidence.expected / evidence.examinations  # the baseline click rate
    if not 0 < rate < 1:  # nothing clicked, or everything: no product stands out
        return 0.0
    estimate = (evidence.clicks + PRIOR_EXAMINATIONS * rate) / (
        evidence.examinations + PRIOR_EXAMINATIONS
    )
    odds_ratio = (estimate / (1 - estimate)) / (rate / (1 - rate))
    return (odds_ratio - 1) / (odds_ratio + 1)


def combined_boost(query_signal: float, product_signal: float) -> float:
    return max(-1.0, min(1.0, query_signal + PRODUCT_SHARE * product_signal))


_PAIRS_SQL = """
WITH clicked AS (
    SELECT DISTINCT search_id, sku FROM {result_event}
    WHERE type = 'click' AND normalised_query = ANY(%(queries)s)
),
searches AS (
    SELECT s.search_id, s.normalised_query, s.visitor, s.shown, s.first_position
    FROM {search_event} s
    WHERE s.search_id IN (SELECT search_id FROM clicked)
      AND s.normalised_query = ANY(%(queries)s) AND NOT s.photo
),
shown AS (
    SELECT s.search_id, s.normalised_query, s.visitor, e.sku,
           s.first_position + e.ord - 1 AS position,
           (c.sku IS NOT NULL) AS click
    FROM searches s
    CROSS JOIN LATERAL jsonb_array_elements_text(s.shown) WITH ORDINALITY AS e(sku, ord)
    LEFT JOIN clicked c ON c.search_id = s.search_id AND c.sku = e.sku
),
examined AS (
    SELECT normalised_query, visitor, sku, click
    FROM (
        SELECT *, max(CASE WHEN click THEN position END) OVER (PARTITION BY search_id) AS last
        FROM shown
    ) ranked
    WHERE position <= last
),
per_visitor AS (
    SELECT normalised_query, sku, visitor,
           avg(CASE WHEN click THEN 1.0 ELSE 0.0 END) AS clicks
    FROM examined GROUP BY normalised_query, sku, visitor
)
SELECT v.normalised_query, p.id, sum(v.clicks), count(*), count(*)
FROM per_visitor v JOIN {product} p ON p.sku = v.sku
GROUP BY v.normalised_query, p.id
"""


@dataclass
class RefreshReport:
    queries: int = 0
    rows: int = 0
    changed_boosts: int = 0
    version: str = ""


def refresh_click_signal(*, min_visitors: int | None = None) -> RefreshReport:
    """Recompute the signal of every query that got clicks since the last refresh (and of
    their products over all queries); bump the version when a boost changed."""
    min_visitors = settings.VITRINE_CLICK_MIN_VISITORS if min_visitors is None else min_visitors
    watermark = cache.get(WATERMARK_KEY) or 0
    recent = timezone.now() - timezone.timedelta(seconds=LATE_SEARCH_S)
    clicks = ResultEvent.objects.filter(type=ResultEvent.Type.CLICK).exclude(normalised_query="")
    newest = clicks.order_by("-id").values_list("id", flat=True).first() or 0
    queries = sorted(
        set(clicks.filter(id__gt=watermark).values_list("normalised_query", flat=True).distinct())
        | set(
            clicks.filter(created_at__gte=recent)
            .values_list("normalised_query", flat=True)
            .distinct()
        )
    )
    report = RefreshReport(queries=len(queries))
    if queries:
        with transaction.atomic():
            report.changed_boosts, report.rows = _refresh(queries, min_visitors)
    cache.set(WATERMARK_KEY, newest, None)
    if report.changed_boosts:
        report.version = uuid.uuid4().hex[:12]
        cache.set(VERSION_KEY, report.version, None)
    return report


def _refresh(queries: list[str], min_visitors: int) -> tuple[int, int]:
    """(boosts changed, query rows written) for these queries and their products."""
    sql = _PAIRS_SQL.format(
        result_event=ResultEvent._meta.db_table,
        search_event=SearchEvent._meta.db_table,
        product=Product._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"queries": queries})
        pairs = cursor.fetchall()
    shown = ClickSignal.objects.filter(normalised_query__in=queries).values_list("product_id")
    alive = _lock_products({pid for _, pid, *_ in pairs} | {pid for (pid,) in shown})
    pairs = [pair for pair in pairs if pair[1] in alive]
    old = {
        (row.normalised_query, row.product_id): row
        for row in ClickSignal.objects.filter(normalised_query__in=queries)
    }
    # The queries' rows are replaced by what their events say now.
    ClickSignal.objects.filter(normalised_query__in=queries).delete()
    ClickSignal.objects.bulk_create(
        ClickSignal(
            normalised_query=query, product_id=pid, clicks=c, examinations=e, visitors=v, boost=0
        )
        for query, pid, c, e, v in pairs
    )
    products = {pid for _, pid in old} | {pid for _, pid, *_ in pairs}
    changed = _refresh_products(products, min_visitors, old_boosts=old)
    return changed, len(pairs)


# FOR KEY SHARE: what a row pointing at the product needs kept (it only waits for a delete),
# taken in id order as a delete takes its products, before any click row is touched.
_LOCK_PRODUCTS_SQL = """
SELECT id FROM {product} WHERE id = ANY(%(ids)s) ORDER BY id FOR KEY SHARE
"""


def _lock_products(products: set[int]) -> set[int]:
    """Lock these products against deletion for this transaction and return those that
    still exist. A product delete locks its products first, then deletes their click rows;
    taking the products first here too (in the same order) means one waits for the other
    instead of each holding what the other needs (the soak saw that deadlock)."""
    if not products:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            _LOCK_PRODUCTS_SQL.format(product=Product._meta.db_table), {"ids": sorted(products)}
        )
        return {pid for (pid,) in cursor.fetchall()}


def _refresh_products(
    products: Iterable[int], min_visitors: int, *, old_boosts: dict[tuple[str, int], ClickSignal]
) -> int:
    """Each product's own signal over all queries, and the boost of every query row of
    these products (its query's signal plus PRODUCT_SHARE of the product's). The number of
    boosts that moved by BOOST_STEP or more."""
    products = sorted(set(products))
    rows = list(ClickSignal.objects.filter(product_id__in=products).exclude(normalised_query=""))
    rates = _query_rates({row.normalised_query for row in rows})
    own = {
        row.product_id: row
        for row in ClickSignal.objects.filter(product_id__in=products, normalised_query="")
    }
    totals: dict[int, list[float]] = {pid: [0.0, 0.0, 0.0, 0] for pid in products}
    for row in rows:
        total = totals[row.product_id]
        total[0] += row.clicks
        total[1] += row.examinations
        total[2] += rates.get(row.normalised_query, 0.0) * row.examinations
        total[3] += row.visitors  # a visitor of two queries counts twice: an upper bound
    product_signal = {}
    changed = 0
    for pid, (c, e, x, v) in totals.items():
        evidence = Evidence(clicks=c, examinations=e, expected=x, visitors=int(v))
        product_signal[pid] = signal(evidence, min_visitors=min_visitors)
        row = own.get(pid)
        if row is None and not e:
            continue
        if row is None:
            row = ClickSignal(normalised_query="", product_id=pid)
        changed += _moved(row.boost, product_signal[pid])
        row.clicks, row.examinations, row.visitors = c, e, int(v)
        row.boost = _stepped(row.boost, product_signal[pid])
        row.save()
    updates = []
    for row in rows:
        rate = rates.get(row.normalised_query, 0.0)
        evidence = Evidence(
            clicks=row.clicks,
            examinations=row.examinations,
            expected=rate * row.examinations,
            visitors=row.visitors,
        )
        boost = combined_boost(
            signal(evidence, min_visitors=min_visitors), product_signal[row.product_id]
        )
        before = old_boosts.get((row.normalised_query, row.product_id))
        previous = before.boost if before is not None else row.boost
        changed += _moved(previous, boost)
        row.boost = _stepped(previous, boost)
        updates.append(row)
    ClickSignal.objects.bulk_update(updates, ["boost"], batch_size=1000)
    # A query row that is gone (its product no longer shown in a clicked search) changed too.
    kept = {(row.normalised_query, row.product_id) for row in rows}
    changed += sum(1 for key, row in old_boosts.items() if row.boost and key not in kept)
    return changed


def _query_rates(queries: set[str]) -> dict[str, float]:
    """Each query's clicks per examination over all its products."""
    if not queries:
        return {}
    rates = {}
    for query, c, e in (
        ClickSignal.objects.filter(normalised_query__in=queries)
        .values("normalised_query")
        .annotate(c=Sum("clicks"), e=Sum("examinations"))
        .values_list("normalised_query", "c", "e")
    ):
        rates[query] = c / e if e else 0.0
    return rates


def _moved(before: float, after: float) -> int:
    return int(abs(after - before) >= BOOST_STEP)


def _stepped(before: float, after: float) -> float:
    """The new boost, or the old one when it moved less than BOOST_STEP."""
    return after if abs(after - before) >= BOOST_STEP else before
