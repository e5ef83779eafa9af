"""Where search insights wait between a request and the database: the shop's Redis, reached
through Django's cache backend (config's ResilientRedisCache), under the cache's key prefix.

    insights:events            list: search and result events, JSON, oldest first (RPUSH)
    insights:events:draining   list: the batch the drain has taken and not yet committed
    insights:shown:<search_id> what a result event is checked against, kept SHOWN_TTL_S
    insights:once:<digest>     a result event already recorded (one per visitor, search,
                               type and SKU), kept SHOWN_TTL_S
    insights:lost              events that could not be buffered, not yet in InsightsDay
    insights:salt:<YYYY-MM-DD> the day's random salt of visitor keys, kept SALT_TTL_S
    insights:drain-lock        one drain at a time

(each prefixed as the cache prefixes its keys: "vitrine:1:insights:events" by default).

Recording must never slow or break search: a Redis that fails is skipped for
RETRY_AFTER_S in this process (one socket timeout per few seconds at worst, as the cache
does), and what could not be buffered meanwhile is counted here, in the process, and added
to `insights:lost` with the next write that gets through."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

EVENTS = "insights:events"
DRAINING = "insights:events:draining"
LOST = "insights:lost"
DRAIN_LOCK = "insights:drain-lock"
# A click may come a while after its search (a shopper reads, comes back from a product
# page); a day covers that. Older search ids are still checked against the drained rows.
SHOWN_TTL_S = 24 * 3600
# Today's salt and yesterday's (a search just before midnight is clicked just after).
SALT_TTL_S = 2 * 24 * 3600
RETRY_AFTER_S = 5.0

FAILURES = (RedisError, OSError)


def shown_key(search_id: str) -> str:
    return f"insights:shown:{search_id}"


def once_key(digest: str) -> str:
    return f"insights:once:{digest}"


def salt_key(day: str) -> str:
    return f"insights:salt:{day}"


class BufferUnavailable(Exception):
    """Redis cannot be reached (or was failing a moment ago): the event is not buffered."""


class _Breaker:
    """This process's view of the buffer: down until a moment after the last failure, and how
    many events it could not buffer meanwhile (not yet added to `insights:lost`)."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.lost = 0
        self.lock = threading.Lock()


_breaker = _Breaker()


def key(name: str) -> str:
    """The Redis key the cache would use for `name` (its prefix and version)."""
    return cache.make_key(name)


def redis_client() -> Any:
    """The shop's Redis (the cache's own connection pool). Raises BufferUnavailable when the
    cache is not Redis, or Redis failed within the last RETRY_AFTER_S."""
    now = time.monotonic()
    # The cache's own circuit breaker: a search that just found Redis hung skips it here too.
    if now < _breaker.down_until or now < getattr(cache, "_down_until", 0.0):
        raise BufferUnavailable("Redis failed a moment ago")
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        raise BufferUnavailable("the cache is not Redis")
    return backend.get_client(None, write=True)


def failed(exc: BaseException) -> None:
    """Remember that Redis failed: skip it for RETRY_AFTER_S."""
    _breaker.down_until = time.monotonic() + RETRY_AFTER_S
    logger.warning(
        "search insights: Redis unavailable (%s: %s); counting events as lost for %.0f s",
        exc.__class__.__name__,
        exc,
        RETRY_AFTER_S,
    )


def count_lost(n: int = 1) -> None:
    """Events that could not be buffered: counted here until a write gets through."""
    with _breaker.lock:
        _breaker.lost += n


def lost_in_process() -> int:
    return _breaker.lost


def take_lost_in_process() -> int:
    """The losses to add to `insights:lost` with the next write; `restore_lost` puts them
    back if that write fails."""
    with _breaker.lock:
        n, _breaker.lost = _breaker.lost, 0
    return n


def restore_lost(n: int) -> None:
    if n:
        count_lost(n)


def flush_lost() -> int:
    """Add this process's counted losses to the shared count now (the drain calls it; a
    web process flushes with its next recorded event). Returns how many were added."""
    n = take_lost_in_process()
    if not n:
        return 0
    try:
        redis_client().incrby(key(LOST), n)
    except BufferUnavailable:
        restore_lost(n)
        return 0
    except FAILURES as exc:
        failed(exc)
        restore_lost(n)
        return 0
    return n


def forget_failures() -> None:
    """Forget this process's failures and uncounted losses (tests that take Redis away and
    give it back start from a clean process)."""
    with _breaker.lock:
        _breaker.down_until = 0.0
        _breaker.lost = 0
