"""Counting deliveries, parking a task that was delivered too often, and the admin's retry and
discard. The counts live in the cache (Redis, shared by every worker): a worker that dies
while running a task cannot count anything afterwards, so each delivery is counted before the
task's body starts. A cache that is down counts nothing (the task runs, as before)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from search.parking.models import ParkedTask

logger = logging.getLogger(__name__)

WORKER_DIED = (
    "no exception: the worker process running it died every time (killed, out of memory, "
    "or crashed in native code)"
)


def _key(task_id: str, attempt: int) -> str:
    # A retry (`self.retry()`) sends the same task id again with the next retry number: it is a
    # new attempt, not a re-delivery, so each attempt is counted on its own.
    return f"task-deliveries:{task_id}:{attempt}"


def record_delivery(*, task_id: str, attempt: int) -> int | None:
    """Count one delivery of this attempt of the task; the count so far, or None when the
    cache cannot say (then nothing is parked)."""
    key, window = _key(task_id, attempt), settings.VITRINE_TASK_DELIVERY_WINDOW_S
    cache.add(f"{key}:first", time.time(), timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: count this one as the first
        return None


def forget_deliveries(*, task_id: str, attempt: int) -> None:
    """The attempt returned (its message is acknowledged for good, or a retry replaces it):
    its count can never be needed again, so it goes now rather than after the window's day
    (at a task a second that would be ~170,000 keys held in Redis for nothing)."""
    key = _key(task_id, attempt)
    cache.delete_many([key, f"{key}:first", f"{key}:error"])


def remember_error(*, task_id: str, attempt: int, error: str) -> None:
    """The exception a delivery ended with, shown if the task is later parked."""
    cache.set(
        f"{_key(task_id, attempt)}:error", error[:2000], settings.VITRINE_TASK_DELIVERY_WINDOW_S
    )


def park_task(
    *,
    task_id: str,
    attempt: int,
    task_name: str,
    args: list,
    kwargs: dict,
    queue: str,
    deliveries: int,
) -> ParkedTask:
    """Record a task that will not run again unless someone in the admin re-sends it."""
    key = _key(task_id, attempt)
    seen = cache.get_many([f"{key}:first", f"{key}:error"])
    now = datetime.now(UTC)
    first = seen.get(f"{key}:first")
    parked, _ = ParkedTask.objects.update_or_create(
        task_id=task_id,
        defaults={
            "task_name": task_name,
            "args": list(args or []),
            "kwargs": dict(kwargs or {}),
            "queue": queue or "",
            "error": seen.get(f"{key}:error") or WORKER_DIED,
            "deliveries": deliveries,
            "first_seen": datetime.fromtimestamp(first, UTC) if first else now,
            "last_seen": now,
        },
    )
    logger.error(
        "parked task %s[%s] after %d deliveries: %s", task_name, task_id, deliveries, parked.error
    )
    return parked


def retry_parked_tasks(*, parked_ids: list[int]) -> int:
    """Send each parked task again (a new task id, so its deliveries count from zero) and
    forget it; the number re-sent. A task that cannot be sent (broker down) stays parked."""
    sent = 0
    for parked in ParkedTask.objects.filter(pk__in=parked_ids):
        options = {"queue": parked.queue} if parked.queue else {}
        with transaction.atomic():
            parked.delete()
            # Sent inside the transaction: if publishing fails, the delete is rolled back.
            current_app.send_task(
                parked.task_name, args=parked.args, kwargs=parked.kwargs, **options
            )
        sent += 1
    return sent


def discard_parked_tasks(*, parked_ids: list[int]) -> int:
    """Drop parked tasks for good; the number dropped."""
    deleted, _ = ParkedTask.objects.filter(pk__in=parked_ids).delete()
    return deleted
