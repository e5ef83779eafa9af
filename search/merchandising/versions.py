"""How a change to synonyms or rules reaches every web process within seconds.

Each kind ("synonyms", "rules") has a version token in Django's cache (Redis), replaced by
the service that writes, once the write commits. Each process keeps what it compiled from
the tables with the token it saw, and compares tokens at most every CHECK_S seconds: a
search costs a cache read every CHECK_S at most, and the tables are read only when they
changed. Fail safe: with Redis down (the cache answers None) a process reloads the tables
every CHECK_S, and a compiled copy is never older than MAX_AGE_S, so a token write that was
lost while Redis was away cannot keep a process on old rules."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

# How often a process compares its copy's token with the shared one.
CHECK_S = 2.0
# The oldest a process's copy may get, whatever the tokens say.
MAX_AGE_S = 60.0

T = TypeVar("T")


def _key(kind: str) -> str:
    return f"merchandising:version:{kind}"


@dataclass(frozen=True)
class _Copy(Generic[T]):
    value: T
    version: str | None
    loaded: float
    checked: float


class ProcessCopy(Generic[T]):
    """This process's compiled copy of one kind's tables (see the module's doc)."""

    def __init__(self, kind: str, load: Callable[[], T]):
        self.kind = kind
        self._load = load
        self._copy: _Copy[T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        now = time.monotonic()
        copy = self._copy
        if copy is not None and now - copy.checked < CHECK_S:
            return copy.value
        version = cache.get(_key(self.kind))
        if version is None:
            # Never set (or evicted): set one, so every process settles on it. With Redis
            # down this reads None again, and the tables are reloaded every CHECK_S.
            cache.add(_key(self.kind), uuid.uuid4().hex, None)
        fresh = copy is not None and now - copy.loaded < MAX_AGE_S
        if fresh and version is not None and version == copy.version:
            self._copy = _Copy(copy.value, version, copy.loaded, now)
            return copy.value
        with self._lock:  # one load per process at a time; the others wait for it
            if self._copy is not copy and self._copy is not None:
                return self._copy.value
            value = self._load()
            self._copy = _Copy(value, version, now, now)
        return value

    def forget(self) -> None:
        """Reload on the next read (this process wrote, or a test rolled the tables back)."""
        self._copy = None


def changed(copy: ProcessCopy) -> None:
    """A write to `copy`'s tables: this process reloads at once; the others once the write
    commits and they next compare tokens (within CHECK_S)."""
    copy.forget()

    def publish() -> None:
        copy.forget()
        cache.set(_key(copy.kind), uuid.uuid4().hex, None)

    transaction.on_commit(publish)
