"""A pool process that takes longer than Celery's default 4 s to start (it loads the embedder
first, VITRINE_WORKER_PRELOAD_MODELS) is waited for, not killed and forked again forever: the
soak (bench/run_soak.py) found a worker that never ran a task again after its pool process
died on a busy machine."""

from __future__ import annotations

import uuid

import psutil
import pytest
from django.conf import settings

from config.celery import app
from tests.support import poison_tasks
from tests.support.workers import start_worker, stop_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_pool_process_that_replaces_a_dead_one_is_waited_for_while_it_starts_slowly(
    tmp_path, media_root
):
    queue = f"slow-start-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    worker = start_worker(
        queue=queue,
        log=log,
        include=["tests.support.slow_worker_start", "tests.support.poison_tasks"],
        env={
            "VITRINE_MEDIA_ROOT": str(media_root),
            "VITRINE_WORKER_PRELOAD_MODELS": "0",  # the slow start below stands in for the load
            "SLOW_START_S": "6",
        },
    )
    try:
        first, second = f"slow-{uuid.uuid4().hex}", f"slow-{uuid.uuid4().hex}"
        poison_tasks.say_it_ran.apply_async(args=[first], queue=queue)
        assert wait_until(lambda: poison_tasks.runs(first) == 1, timeout=60), log.read_text()
        # The pool process dies (an OOM kill, a crash): the worker forks a new one, which
        # takes 6 s to start. Celery's default gave it 4 s, then killed it, again and again.
        (pool,) = psutil.Process(worker.pid).children()
        pool.kill()
        poison_tasks.say_it_ran.apply_async(args=[second], queue=queue)
        ran = wait_until(lambda: poison_tasks.runs(second) == 1, timeout=60)
        text = log.read_text(errors="replace")
        assert ran, text[-3000:]
        assert "Timed out waiting for UP message" not in text
        assert app.conf.worker_proc_alive_timeout == settings.CELERY_WORKER_PROC_ALIVE_TIMEOUT
    finally:
        stop_worker(worker)
