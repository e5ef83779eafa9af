"""Threads that do database work on connections of their own (Django's are per thread), so
a search or an embedding task can wait on PostgreSQL and on the model at the same time.

Each pool is made in its process on first use (so never before a fork) and kept: its
threads keep their connections between jobs, closed as after a request when they pass
VITRINE_DB_CONN_MAX_AGE or break. A test run that drops its database closes them first
(`close_connection_threads`)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.db import close_old_connections, connections

T = TypeVar("T")

_pools: list[ConnectionThreads] = []


class ConnectionThreads:
    """`size` threads named `name`-N, each with its own database connections."""

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._executor: ThreadPoolExecutor | None = None
        _pools.append(self)

    def submit(self, work: Callable[..., T], **kwargs) -> Future[T]:
        """Run `work(**kwargs)` on one of the threads, in a copy of the caller's context
        (which replica a search reads travels with it)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.size, thread_name_prefix=self.name)
        context = contextvars.copy_context()
        return self._executor.submit(context.run, _on_own_connection, work, kwargs)

    def close(self) -> None:
        """Close every thread's database connections and end the threads (the next job
        starts new ones)."""
        if self._executor is None:
            return
        # One job per thread: each waits at the barrier until all are running, so no thread
        # takes two and every one closes its own connections.
        everyone = threading.Barrier(self.size, timeout=10)

        def close_mine() -> None:
            everyone.wait()
            connections.close_all()

        for future in [self._executor.submit(close_mine) for _ in range(self.size)]:
            future.result()
        self._executor.shutdown()
        self._executor = None


def _on_own_connection(work: Callable[..., T], kwargs: dict) -> T:
    try:
        return work(**kwargs)
    finally:
        close_old_connections()


def close_connection_threads() -> None:
    """Every pool's connections closed and threads ended: for a test run that drops its
    database, which PostgreSQL refuses while a connection is open."""
    for pool in _pools:
        pool.close()
