"""The keyword leg alongside the vector leg: a hybrid search runs its keyword SQL on a
thread of its own while this one encodes the query and reads the ANN index, so the search
waits for the slower of the two instead of their sum. Both mostly wait outside Python (in
PostgreSQL, in torch), so the two overlap even under the GIL.

The thread reads through its own database connection (Django's are per thread), for the
same database the search reads (the chosen replica: the context travels with the task).
Inside a transaction the search's own connection may hold what no other one can see yet
(a test's rolled-back transaction, an import that searches before it commits): there the
leg runs in line, as it does with VITRINE_PARALLEL_LEGS off."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connections

from search.replicas import read_connection

T = TypeVar("T")

# Threads for keyword legs, per process, made on first use (so never before a fork). One
# per request a process serves at once is enough: gunicorn's sync workers serve one; a
# threaded server's extra requests wait for a thread rather than open more connections.
LEG_THREADS = 2

_executor: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(LEG_THREADS, thread_name_prefix="vitrine-keyword-leg")
    return _executor


def _on_own_connection(leg: Callable[..., T], kwargs: dict) -> T:
    try:
        return leg(**kwargs)
    finally:
        # As after a request: a connection past VITRINE_DB_CONN_MAX_AGE (or broken) closes,
        # the next leg on this thread opens a fresh one.
        close_old_connections()


def run_later(leg: Callable[..., T], **kwargs) -> Callable[[], T]:
    """What runs `leg(**kwargs)` in line when called."""
    return lambda: leg(**kwargs)


def start_alongside(leg: Callable[..., T], **kwargs) -> Callable[[], T]:
    """Start `leg(**kwargs)` on a leg thread and return what waits for its result (raising
    its error, if any); where it cannot run apart (see the module), return what runs it in
    line when called."""
    if not settings.SEARCH_PARALLEL_LEGS or read_connection().in_atomic_block:
        return run_later(leg, **kwargs)
    context = contextvars.copy_context()
    return _threads().submit(context.run, _on_own_connection, leg, kwargs).result


def close_leg_threads() -> None:
    """Close every leg thread's database connections and end the threads (the next hybrid
    search starts new ones): for a test run that drops its database, which PostgreSQL
    refuses while a connection is open."""
    global _executor
    if _executor is None:
        return
    # One task per thread: each waits at the barrier until all are running, so no thread
    # takes two and every one closes its own connections.
    everyone = threading.Barrier(LEG_THREADS, timeout=10)

    def close_mine() -> None:
        everyone.wait()
        connections.close_all()

    for future in [_executor.submit(close_mine) for _ in range(LEG_THREADS)]:
        future.result()
    _executor.shutdown()
    _executor = None
