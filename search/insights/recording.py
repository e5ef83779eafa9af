"""Recording a search as it was answered: the storefront and the API call `record_search`
after search.services answered, and hand its `search_id` to the shopper (the API's
`search_id`, the storefront's result links). One Redis round trip per search: the event goes
to the buffer (search.insights.draining writes it to the database in batches) and what a
result event is checked against (search.insights.events) is kept for a day.

Privacy: no raw IP address, cookie value or user id is recorded. The visitor key is
HMAC-SHA256(day's salt, client address + user agent), cut to 32 hex digits. The salt is random,
made by the first process that needs it each day (UTC) and kept in Redis only two days, so a
visitor's searches link up within a day, never across days, and once the salt is gone nobody
(not even someone holding the database and the secret key) can tell whose address a key was.
The client address is the one the API throttle uses (VITRINE_NUM_PROXIES)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from search.insights import buffer
from search.insights.models import QUERY_MAX_CHARS, Source
from search.query import SearchFilters, SearchRequest, normalise_query
from search.types import SearchResponse

logger = logging.getLogger(__name__)

MAX_USER_AGENT_CHARS = 512  # what goes into the visitor key; longer ones are cut
VISITOR_CHARS = 32

# This process's copy of the day's salt: day (UTC, ISO) -> salt.
_salts: dict[str, str] = {}


def insights_enabled() -> bool:
    """VITRINE_ANALYTICS: record searches and result events (0 turns all of it off)."""
    return bool(settings.VITRINE_ANALYTICS)


def normalised_query(text: str) -> str:
    """What insights group searches by (and the click signal keys on): search.query's
    normaliser (control characters, runs of whitespace, the length cap), case-folded."""
    query, _ = normalise_query(text or "")
    return query.casefold()[:QUERY_MAX_CHARS]


def filters_data(filters: SearchFilters) -> dict[str, Any]:
    """The filters a search had, as JSON (only those set)."""
    data: dict[str, Any] = {}
    if filters.category:
        data["category"] = filters.category
    if filters.brands:
        data["brands"] = list(filters.brands)
    if filters.price_min is not None:
        data["price_min"] = str(filters.price_min)
    if filters.price_max is not None:
        data["price_max"] = str(filters.price_max)
    if filters.attributes:
        data["attributes"] = [list(pair) for pair in filters.attributes]
    return data


def client_address(http_request: HttpRequest) -> str:
    """The address the API throttle counts (X-Forwarded-For only behind VITRINE_NUM_PROXIES)."""
    return BaseThrottle().get_ident(http_request) or ""


def visitor_key(http_request: HttpRequest, *, client: Any | None = None) -> str:
    """The request's visitor key for today (see the module's note). Raises BufferUnavailable
    when the day's salt cannot be read."""
    salt = _day_salt(client)
    agent = http_request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT_CHARS]
    message = f"{client_address(http_request)}\n{agent}".encode("utf-8", "replace")
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:VISITOR_CHARS]


def _day_salt(client: Any | None) -> str:
    day = timezone.now().date().isoformat()
    salt = _salts.get(day)
    if salt is not None:
        return salt
    client = client or buffer.redis_client()
    name = buffer.key(buffer.salt_key(day))
    try:
        pipe = client.pipeline(transaction=False)
        pipe.set(name, secrets.token_hex(16), nx=True, ex=buffer.SALT_TTL_S)
        pipe.get(name)
        _, stored = pipe.execute()
    except buffer.FAILURES as exc:
        buffer.failed(exc)
        raise buffer.BufferUnavailable(str(exc)) from exc
    salt = stored.decode() if isinstance(stored, bytes) else str(stored)
    _salts.clear()  # yesterday's is not needed in this process any more
    _salts[day] = salt
    return salt


def record_search(
    *,
    search: SearchRequest,
    response: SearchResponse,
    source: str,
    http_request: HttpRequest,
) -> str | None:
    """Buffer this answered search and return its search_id; None when recording is off
    (VITRINE_ANALYTICS=0) or the event could not be buffered (Redis down: the loss is
    counted). Never raises: a search is answered whether or not it is recorded."""
    if not insights_enabled():
        return None
    try:
        return _record(search, response, Source(source), http_request)
    except buffer.BufferUnavailable:
        buffer.count_lost()
    except Exception:  # a bug here must cost an event, never the shopper's search
        logger.exception("search insights: could not record a search")
        buffer.count_lost()
    return None


def _record(
    search: SearchRequest, response: SearchResponse, source: Source, http_request: HttpRequest
) -> str:
    client = buffer.redis_client()
    search_id = str(uuid.uuid4())
    normalised = normalised_query(search.query)
    shown = [hit.sku for hit in response.results]
    first_position = (response.page - 1) * response.page_size + 1
    event = {
        "kind": "search",
        "search_id": search_id,
        "at": time.time(),
        "source": source.value,
        "query": search.query[:QUERY_MAX_CHARS],
        "normalised_query": normalised,
        "photo": search.photo is not None,
        "mode": response.mode,
        "filters": filters_data(search.filters),
        "sort": response.sort,
        "page": response.page,
        "result_count": response.count,
        "shown": shown,
        "first_position": first_position,
        "latency_ms": float(response.timings_ms.get("total", 0.0)),
        "embedder": str(response.model.get("embedder") or "")[:500],
        "visitor": visitor_key(http_request, client=client),
    }
    checked = {"normalised_query": normalised, "first_position": first_position, "shown": shown}
    lost = buffer.take_lost_in_process()
    try:
        pipe = client.pipeline(transaction=False)
        pipe.rpush(buffer.key(buffer.EVENTS), json.dumps(event, default=_plain))
        pipe.set(
            buffer.key(buffer.shown_key(search_id)), json.dumps(checked), ex=buffer.SHOWN_TTL_S
        )
        if lost:
            pipe.incrby(buffer.key(buffer.LOST), lost)
        pipe.execute()
    except buffer.FAILURES as exc:
        buffer.restore_lost(lost)
        buffer.failed(exc)
        raise buffer.BufferUnavailable(str(exc)) from exc
    return search_id


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
