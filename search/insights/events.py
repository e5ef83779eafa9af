"""What shoppers do with what a search showed: `POST /api/v1/events`
`{search_id, sku, type: click|add_to_cart|purchase, position}`, checked here and buffered
like searches (search.insights.buffer).

A search id is checked against what that search showed, kept in Redis for a day by
`record_search` (the search itself may still wait in the buffer), else against its drained
row. A click must name a SKU the search showed; an add to cart or a purchase may name
any product of the catalog (found another way after the search). The position stored is the
one the search showed the SKU at, whatever the client says. The same event (search, type,
SKU) from the same visitor is recorded once."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from catalog.models import Product
from search.insights import buffer
from search.insights.models import ResultEvent, SearchEvent
from search.insights.recording import insights_enabled, visitor_key

MAX_EVENT_BYTES = 2048  # a well-formed event is ~150 bytes
MAX_SKU_CHARS = 200  # catalog.Product.sku's length
MAX_POSITION = 1_000_000
TYPES = tuple(ResultEvent.Type.values)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

# Record the event once per (visitor, search, type, SKU): SET NX on the "once" key and push
# it in one step, so a double click or a retried beacon is not counted twice.
_PUSH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


class EventRejected(ValueError):
    """The event cannot be accepted as sent; `field` names the part to blame (for the 400)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class EventsUnavailable(Exception):
    """A valid event that cannot be recorded right now (Redis down): counted as lost."""


@dataclass(frozen=True)
class RecordedEvent:
    recorded: bool  # False: the same event was recorded already (or recording is off)
    position: int | None  # where the search showed the SKU; None: it did not show it


@dataclass(frozen=True)
class _Shown:
    normalised_query: str
    first_position: int
    skus: list[str]


def record_result_event(*, payload: object, http_request: HttpRequest) -> RecordedEvent:
    """Check and buffer one result event. Raises EventRejected (a 400 with its reason) or
    EventsUnavailable (Redis down; the loss is counted)."""
    search_id, sku, kind = _checked(payload)
    if not insights_enabled():
        return RecordedEvent(recorded=False, position=None)
    client, shown = _shown(search_id)
    if shown is None:
        raise EventRejected(
            "unknown search_id: no search with this id was recorded (or it is too old)",
            field="search_id",
        )
    position = None
    if sku in shown.skus:
        position = shown.first_position + shown.skus.index(sku)
    elif kind == ResultEvent.Type.CLICK:
        raise EventRejected(
            f"this search did not show {sku!r}: a click must name a SKU it showed (an "
            "add_to_cart or purchase may name any product)",
            field="sku",
        )
    elif not Product.objects.filter(sku=sku).exists():
        raise EventRejected(f"unknown SKU {sku!r}: no product has it", field="sku")
    if client is None:
        buffer.count_lost()
        raise EventsUnavailable("events cannot be recorded right now")
    visitor = _visitor(http_request, client)
    event = {
        "kind": "result",
        "search_id": search_id,
        "at": time.time(),
        "type": kind,
        "sku": sku,
        "position": position,
        "normalised_query": shown.normalised_query,
        "visitor": visitor,
    }
    once = hashlib.sha256(f"{search_id}\n{kind}\n{sku}\n{visitor}".encode()).hexdigest()[:32]
    try:
        pushed = client.eval(
            _PUSH_ONCE,
            2,
            buffer.key(buffer.once_key(once)),
            buffer.key(buffer.EVENTS),
            json.dumps(event),
            buffer.SHOWN_TTL_S,
        )
    except buffer.FAILURES as exc:
        buffer.failed(exc)
        buffer.count_lost()
        raise EventsUnavailable("events cannot be recorded right now") from exc
    buffer.flush_lost()  # this process's earlier losses, now that Redis answers
    return RecordedEvent(recorded=bool(pushed), position=position)


def _checked(payload: object) -> tuple[str, str, str]:
    """The event's search id (canonical), SKU and type, or EventRejected."""
    if not isinstance(payload, dict):
        raise EventRejected("send one JSON object: {search_id, sku, type, position}")
    raw_id = payload.get("search_id")
    if not isinstance(raw_id, str) or len(raw_id) > 64:
        raise EventRejected("search_id must be the search_id a search answered", field="search_id")
    try:
        search_id = str(uuid.UUID(raw_id))
    except ValueError:
        raise EventRejected("search_id is not a search id", field="search_id") from None
    sku = payload.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        raise EventRejected("sku must be a product's SKU", field="sku")
    if len(sku) > MAX_SKU_CHARS or _CONTROL_CHARS.search(sku):
        raise EventRejected("sku is not a SKU (too long, or control characters)", field="sku")
    kind = payload.get("type")
    if kind not in TYPES:
        raise EventRejected(f"type is one of {', '.join(TYPES)}", field="type")
    position = payload.get("position")
    if position is not None and (
        isinstance(position, bool)
        or not isinstance(position, int)
        or not 1 <= position <= MAX_POSITION
    ):
        raise EventRejected("position is the 1-based place the search showed it", field="position")
    return search_id, sku, kind


def _shown(search_id: str) -> tuple[Any | None, _Shown | None]:
    """Redis's client (None when it is down) and what that search showed: read from Redis
    for a day, else from its drained row (None: no such search)."""
    try:
        client = buffer.redis_client()
        raw = client.get(buffer.key(buffer.shown_key(search_id)))
    except buffer.BufferUnavailable:
        client = raw = None
    except buffer.FAILURES as exc:
        buffer.failed(exc)
        client = raw = None
    if raw is not None:
        data = json.loads(raw)
        return client, _Shown(data["normalised_query"], data["first_position"], data["shown"])
    row = (
        SearchEvent.objects.filter(search_id=search_id)
        .values("normalised_query", "first_position", "shown")
        .first()
    )
    if row is None:
        return client, None
    return client, _Shown(row["normalised_query"], row["first_position"], list(row["shown"]))


def _visitor(http_request: HttpRequest, client: Any) -> str:
    try:
        return visitor_key(http_request, client=client)
    except buffer.BufferUnavailable as exc:
        buffer.count_lost()
        raise EventsUnavailable("events cannot be recorded right now") from exc
