"""The buffer (search.insights.buffer) into SearchEvent / ResultEvent rows, in batches: Celery
beat runs `drain_search_events` every VITRINE_ANALYTICS_DRAIN_S seconds (search.tasks).

Crash-safe: a batch is moved, in one atomic step, from `insights:events` to
`insights:events:draining` and removed from there only after its rows are committed. A drain
that dies in between leaves the batch there; the next drain writes it again first, and
writing it again adds nothing twice (search ids are unique; a result event already written
is skipped). The events counted as lost (`insights:lost`) are added to InsightsDay.lost_events
of the day they are drained, then taken off the count (a crash between the two counts them
twice rather than never)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from search.insights import buffer
from search.insights.models import HISTOGRAM_SIZE, InsightsDay, ResultEvent, SearchEvent

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # events per database transaction
# One drain stops after this long even if events keep coming (the next one goes on); the
# lock outlives it, so two drains never take the same batch.
MAX_DRAIN_S = 30.0
LOCK_TTL_S = 120

# Move up to ARGV[1] events from the buffer to the draining list and return them, atomically.
_TAKE_BATCH = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('RPUSH', KEYS[2], unpack(items))
  redis.call('LTRIM', KEYS[1], #items, -1)
end
return items
"""


@dataclass
class DrainReport:
    searches: int = 0
    results: int = 0
    lost: int = 0  # added to InsightsDay.lost_events
    skipped: int = 0  # malformed entries (none are expected)


def drain_search_events(*, batch_size: int = BATCH_SIZE, max_s: float = MAX_DRAIN_S) -> DrainReport:
    """Write what the buffer holds to the database, batch by batch, until it is empty (or
    `max_s` passed). Does nothing while another drain runs, or while Redis is down. Tests
    and the click simulation may call it directly to see events at once."""
    report = DrainReport()
    try:
        client = buffer.redis_client()
        lock = buffer.key(buffer.DRAIN_LOCK)
        if not client.set(lock, "1", nx=True, ex=LOCK_TTL_S):
            return report
    except buffer.BufferUnavailable:
        return report
    except buffer.FAILURES as exc:
        buffer.failed(exc)
        return report
    try:
        buffer.flush_lost()  # this process's own losses (a worker that also records)
        draining = buffer.key(buffer.DRAINING)
        left_over = client.lrange(draining, 0, -1)
        if left_over:  # a drain died before committing these: write them first
            logger.warning("search insights: writing %d events left by a drain", len(left_over))
            _write(left_over, report, again=True)
            client.delete(draining)
        started = time.monotonic()
        events = buffer.key(buffer.EVENTS)
        while time.monotonic() - started < max_s:
            batch = client.eval(_TAKE_BATCH, 2, events, draining, batch_size)
            if not batch:
                break
            _write(batch, report, again=False)
            client.delete(draining)
            if len(batch) < batch_size:
                break
        report.lost = _drain_lost(client)
    except buffer.FAILURES as exc:
        buffer.failed(exc)  # what was taken stays in the draining list for the next drain
    finally:
        try:
            client.delete(buffer.key(buffer.DRAIN_LOCK))
        except buffer.FAILURES:
            pass  # it expires
    return report


def _write(raw_events: list[Any], report: DrainReport, *, again: bool) -> None:
    searches: list[SearchEvent] = []
    results: list[ResultEvent] = []
    for raw in raw_events:
        try:
            data = json.loads(raw)
            if data["kind"] == "search":
                searches.append(_search_row(data))
            else:
                results.append(_result_row(data))
        except (ValueError, KeyError, TypeError):
            logger.error("search insights: skipping a malformed event %r", raw[:200])
            report.skipped += 1
    if again and results:
        results = _not_yet_written(results)
    try:
        with transaction.atomic():
            SearchEvent.objects.bulk_create(searches, ignore_conflicts=True)
            ResultEvent.objects.bulk_create(results)
    except (DataError, IntegrityError):
        # One event the database refuses must not hold up every other one for ever (the
        # batch would be retried on each drain): write them one by one, skip the bad ones.
        searches, results = _one_by_one(searches, report), _one_by_one(results, report)
    report.searches += len(searches)
    report.results += len(results)


def _one_by_one(rows: list, report: DrainReport) -> list:
    written = []
    for row in rows:
        try:
            with transaction.atomic():
                type(row).objects.bulk_create([row], ignore_conflicts=True)
        except (DataError, IntegrityError):
            logger.exception("search insights: the database refused an event; skipped")
            report.skipped += 1
        else:
            written.append(row)
    return written


def _at(data: dict) -> datetime:
    return datetime.fromtimestamp(float(data["at"]), UTC)


def _search_row(data: dict) -> SearchEvent:
    return SearchEvent(
        search_id=data["search_id"],
        created_at=_at(data),
        source=data["source"],
        query=data["query"],
        normalised_query=data["normalised_query"],
        photo=bool(data["photo"]),
        mode=data["mode"],
        filters=data["filters"],
        sort=data["sort"],
        page=int(data["page"]),
        result_count=int(data["result_count"]),
        zero_results=int(data["result_count"]) == 0,
        shown=list(data["shown"]),
        first_position=int(data["first_position"]),
        latency_ms=float(data["latency_ms"]),
        embedder=data["embedder"],
        visitor=data["visitor"],
    )


def _result_row(data: dict) -> ResultEvent:
    return ResultEvent(
        search_id=data["search_id"],
        created_at=_at(data),
        type=data["type"],
        sku=data["sku"],
        position=data["position"],
        normalised_query=data["normalised_query"],
        visitor=data["visitor"],
    )


def _not_yet_written(results: list[ResultEvent]) -> list[ResultEvent]:
    """A batch written again after a crash: leave out the result events already in (the
    recording keeps one per visitor, search, type and SKU)."""
    existing = set(
        ResultEvent.objects.filter(search_id__in={str(r.search_id) for r in results}).values_list(
            "search_id", "type", "sku", "visitor"
        )
    )
    return [r for r in results if (_uuid(r.search_id), r.type, r.sku, r.visitor) not in existing]


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _drain_lost(client: Any) -> int:
    """Add the shared count of lost events to today's InsightsDay, then take it off."""
    name = buffer.key(buffer.LOST)
    lost = int(client.get(name) or 0)
    if lost <= 0:
        return 0
    table = InsightsDay._meta.db_table
    with connection.cursor() as cursor:  # the rollup upserts the same row: one statement
        cursor.execute(
            f"INSERT INTO {table} (day, searches, zero_result_searches, clicks, lost_events,"
            " latency_histogram) VALUES (%s, 0, 0, 0, %s, %s)"
            f" ON CONFLICT (day) DO UPDATE SET lost_events = {table}.lost_events"
            " + EXCLUDED.lost_events",
            [timezone.localdate(), lost, [0] * HISTOGRAM_SIZE],
        )
    client.decrby(name, lost)
    return lost
