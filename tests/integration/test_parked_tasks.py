"""A task that kills its worker on every delivery is parked after VITRINE_TASK_MAX_DELIVERIES
deliveries, for real: a `celery worker` process runs it, its pool process dies each time, the
message comes back (acks_late, reject_on_worker_lost) and is counted before the body runs.
The tasks queued behind it still run, and the admin's retry sends it again."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from config.celery import app
from search.parking.models import ParkedTask
from search.parking.services import WORKER_DIED
from tests.support import poison_tasks
from tests.support.workers import start_worker, stop_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.django_db(transaction=True)]

MAX_DELIVERIES = 2


@pytest.fixture
def poison_worker(tmp_path, media_root) -> Iterator[tuple[str, subprocess.Popen]]:
    """A worker of the test's own on a queue of its own (the session's worker never sees these
    messages), with the test tasks loaded and VITRINE_TASK_MAX_DELIVERIES=2."""
    queue = f"parking-{uuid.uuid4().hex[:8]}"
    node = f"{queue}@localhost"
    log = tmp_path / "worker.log"
    proc = start_worker(
        queue=queue,
        log=log,
        include=["tests.support.poison_tasks"],
        env={
            "VITRINE_MEDIA_ROOT": str(media_root),
            "VITRINE_TASK_MAX_DELIVERIES": str(MAX_DELIVERIES),
            "VITRINE_WORKER_PRELOAD_MODELS": "0",  # each respawned pool process would load it
        },
    )
    try:
        assert wait_until(
            lambda: proc.poll() is None and app.control.ping(destination=[node], timeout=0.5),
            timeout=60,
        ), log.read_text(errors="replace")[-3000:]
        proc.log = log  # type: ignore[attr-defined]
        yield queue, proc
    finally:
        stop_worker(proc)


def test_a_task_that_kills_its_worker_every_time_is_parked_and_the_queue_keeps_flowing(
    poison_worker, admin_client
):
    queue, worker = poison_worker
    poison, healthy = f"poison-{uuid.uuid4().hex}", f"healthy-{uuid.uuid4().hex}"
    sent = poison_tasks.crash_the_worker.apply_async(args=[poison], queue=queue)
    poison_tasks.say_it_ran.apply_async(args=[healthy], queue=queue)

    tail = lambda: worker.log.read_text(errors="replace")[-3000:]  # noqa: E731
    assert wait_until(lambda: ParkedTask.objects.filter(task_id=sent.id).exists()), tail()
    assert wait_until(lambda: poison_tasks.runs(healthy) == 1), tail()  # the queue flowed on
    # Its body ran MAX_DELIVERIES times, each time killing the pool process; the next delivery
    # parked it without running it.
    assert poison_tasks.runs(poison) == MAX_DELIVERIES
    parked = ParkedTask.objects.get(task_id=sent.id)
    assert parked.task_name == "tests.support.poison_tasks.crash_the_worker"
    assert parked.args == [poison] and parked.kwargs == {}
    assert parked.queue == queue
    assert parked.deliveries == MAX_DELIVERIES + 1
    assert parked.error == WORKER_DIED
    assert parked.first_seen <= parked.last_seen
    assert worker.poll() is None  # the worker itself stayed up throughout

    time.sleep(1)  # and it is not re-delivered after parking
    assert poison_tasks.runs(poison) == MAX_DELIVERIES

    # The admin lists it and its retry action sends it again: a new task, counted afresh.
    page = admin_client.get("/admin/search/parkedtask/")
    assert page.status_code == 200 and "crash_the_worker" in page.content.decode()
    response = admin_client.post(
        "/admin/search/parkedtask/",
        {"action": "retry", "_selected_action": [parked.pk]},
        follow=True,
    )
    assert "Sent 1 task(s) again." in response.content.decode()
    assert not ParkedTask.objects.filter(task_id=sent.id).exists()
    assert wait_until(lambda: ParkedTask.objects.filter(task_name=parked.task_name).exists()), (
        tail()
    )
    again = ParkedTask.objects.get(task_name=parked.task_name)
    assert again.task_id != sent.id and again.args == [poison] and again.queue == queue
    assert poison_tasks.runs(poison) == 2 * MAX_DELIVERIES

    # Discard drops it for good.
    admin_client.post(
        "/admin/search/parkedtask/", {"action": "discard", "_selected_action": [again.pk]}
    )
    assert not ParkedTask.objects.exists()
