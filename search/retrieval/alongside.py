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

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from search.connection_threads import ConnectionThreads
from search.replicas import read_connection

T = TypeVar("T")

# Threads for keyword legs, per process. One per request a process serves at once is
# enough: gunicorn's sync workers serve one; a threaded server's extra requests wait for a
# thread rather than open more connections.
LEG_THREADS = 2

_leg_threads = ConnectionThreads(LEG_THREADS, "vitrine-keyword-leg")


def run_later(leg: Callable[..., T], **kwargs) -> Callable[[], T]:
    """What runs `leg(**kwargs)` in line when called."""
    return lambda: leg(**kwargs)


def start_alongside(leg: Callable[..., T], **kwargs) -> Callable[[], T]:
    """Start `leg(**kwargs)` on a leg thread and return what waits for its result (raising
    its error, if any); where it cannot run apart (see the module), return what runs it in
    line when called."""
    if not settings.SEARCH_PARALLEL_LEGS or read_connection().in_atomic_block:
        return run_later(leg, **kwargs)
    return _leg_threads.submit(leg, **kwargs).result
