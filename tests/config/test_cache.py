"""The Redis cache's batched write: one round trip, each key with its own lifetime, and a
Redis that is down loses the write, never the request."""

from __future__ import annotations

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from config.cache import ResilientRedisCache, set_each


def _ttl(key: str) -> int:
    return cache._cache.get_client().ttl(cache.make_and_validate_key(key))


def test_set_each_writes_every_key_with_its_own_timeout():
    set_each(cache, {"a": ({"ranked": [3, 1, 2]}, 300), "b": (b"\x00vector", 86_400), "c": (1, 0)})
    assert cache.get("a") == {"ranked": [3, 1, 2]} and cache.get("b") == b"\x00vector"
    assert 290 < _ttl("a") <= 300 and 86_000 < _ttl("b") <= 86_400
    assert cache.get("c") is None  # timeout 0 deletes, as Django's set does


def test_set_each_on_a_redis_that_is_down_is_a_miss_not_an_error():
    down = ResilientRedisCache(
        "redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.2}}
    )
    set_each(down, {"a": (1, 60)})
    assert down.get("a") is None


def test_set_each_works_on_other_backends():
    memory = LocMemCache("set-each-test", {})
    set_each(memory, {"a": (1, 60), "b": (2, 60)})
    assert memory.get_many(["a", "b"]) == {"a": 1, "b": 2}
