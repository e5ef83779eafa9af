"""Deliveries are counted per task id and attempt: a crash's re-delivery counts, a retry
(`self.retry()`, same id, next retry number) starts a new count."""

from __future__ import annotations

from search.parking.services import record_delivery


def test_redeliveries_of_one_attempt_are_counted_and_a_retry_starts_afresh():
    assert [record_delivery(task_id="t-1", attempt=0) for _ in range(3)] == [1, 2, 3]
    assert record_delivery(task_id="t-1", attempt=1) == 1  # a retry is not a re-delivery
    assert record_delivery(task_id="t-2", attempt=0) == 1  # nor is another task
