"""A Redis cache that degrades instead of failing: the cache only ever speeds things up (ranked
result lists, query vectors, throttle history, shoppers' query photos), so a Redis that is
down or hung must cost a request a cache miss, never a 500.

A failed call is logged and answered as a miss (`get` -> default, `add` -> False, writes are
dropped). After a failure the cache is skipped altogether for `RETRY_AFTER_S` in this process,
so a hung Redis costs one socket timeout per few seconds, not one per cache call. The
throttle then lets requests through (fail open) until Redis is back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_S = 5.0


class ResilientRedisCache(RedisCache):
    _down_until = 0.0

    def _call(self, name: str, fallback: Any, *args, **kwargs) -> Any:
        return self._guarded(
            lambda: getattr(super(ResilientRedisCache, self), name)(*args, **kwargs), fallback
        )

    def _guarded(self, call: Callable[[], Any], fallback: Any) -> Any:
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return call()
        except FAILURES as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_S
            logger.warning(
                "cache unavailable (%s: %s); serving without it for %.0f s",
                exc.__class__.__name__,
                exc,
                RETRY_AFTER_S,
            )
            return fallback

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", None, key, delta, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def clear(self):
        return self._call("clear", False)

    def set_each(self, entries: dict[str, tuple[Any, float | None]]) -> None:
        """Several keys, each with its own timeout, in one round trip (Django's `set_many`
        gives them all one timeout). A search writes its ranking and its query vector so."""

        def write() -> None:
            pipeline = self._cache.get_client(None, write=True).pipeline()
            for key, (value, timeout) in entries.items():
                key, timeout = self.make_and_validate_key(key), self.get_backend_timeout(timeout)
                if timeout == 0:
                    pipeline.delete(key)
                else:
                    pipeline.set(key, self._cache._serializer.dumps(value), ex=timeout)
            pipeline.execute()

        self._guarded(write, None)


def set_each(cache: BaseCache, entries: dict[str, tuple[Any, float | None]]) -> None:
    """`ResilientRedisCache.set_each` on any cache backend (evaluation runs use a private
    in-memory one): one round trip on Redis, one `set` per key elsewhere."""
    if isinstance(cache, ResilientRedisCache):
        cache.set_each(entries)
        return
    for key, (value, timeout) in entries.items():
        cache.set(key, value, timeout)
