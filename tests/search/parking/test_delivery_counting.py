"""Deliveries are counted per task id and attempt: a crash's re-delivery counts, a retry
(`self.retry()`, same id, next retry number) starts a new count."""

from __future__ import annotations

from search.parking.services import record_delivery


def test_redeliveries_of_one_attempt_are_counted_and_a_retry_starts_afresh():
    assert [record_delivery(task_id="t-1", attempt=0) for _ in range(3)] == [1, 2, 3]
    assert record_delivery(task_id="t-1", attempt=1) == 1  # a retry is not a re-delivery
    assert record_delivery(task_id="t-2", attempt=0) == 1  # nor is another task


def test_a_task_that_returned_leaves_no_delivery_count_behind():
    # The counts serve only a message that may come back; keeping them for the window's day
    # made Redis grow with every task run (the soak saw it).
    from celery import states
    from django.core.cache import cache

    from search.tasks import sweep_stale_products as task

    for status, kept in ((states.SUCCESS, False), (states.RETRY, False), (states.FAILURE, True)):
        task_id = f"t-{status}"
        record_delivery(task_id=task_id, attempt=0)
        task.push_request(id=task_id, retries=0, is_eager=False)
        try:
            task.after_return(status, None, task_id, (), {}, None)
        finally:
            task.pop_request()
        left = cache.get_many(
            [f"task-deliveries:{task_id}:0", f"task-deliveries:{task_id}:0:first"]
        )
        assert bool(left) is kept, status
        assert record_delivery(task_id=task_id, attempt=0) == (2 if kept else 1)
