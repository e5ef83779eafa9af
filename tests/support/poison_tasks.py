"""Tasks for the parked-task tests, loaded into a test worker with `--include`: one kills its
worker process on every delivery (as a segfault or an OOM kill would), one just says it ran.
Each run is counted in the shared cache, so the test sees how often a body really started."""

from __future__ import annotations

import os

from celery import shared_task
from django.core.cache import cache


def count_run(token: str) -> None:
    cache.add(f"test-runs:{token}", 0, timeout=600)
    cache.incr(f"test-runs:{token}")


def runs(token: str) -> int:
    return cache.get(f"test-runs:{token}") or 0


@shared_task(acks_late=True)
def crash_the_worker(token: str) -> None:
    count_run(token)
    os._exit(3)  # no exception, no ack: the process is simply gone


@shared_task(acks_late=True)
def say_it_ran(token: str) -> None:
    count_run(token)
