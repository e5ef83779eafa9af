"""The Celery task class of the whole project (config/celery.py sets it as the app's
`task_cls`): every delivery of a task is counted before its body runs, and a task delivered
more than VITRINE_TASK_MAX_DELIVERIES times is parked instead of run.

Why before the body: with `acks_late` and `reject_on_worker_lost`, a task whose worker process
dies goes straight back to the queue with the same id; a task that kills its worker every
time (a segfault, an OOM kill) would be re-delivered forever, and nothing that runs after the
crash could count it."""

from __future__ import annotations

import logging
import time

from celery import Task, states
from celery.exceptions import Reject
from django.conf import settings

logger = logging.getLogger(__name__)

# A parking that failed (the database is down) puts the message back after this pause, so a
# worker does not spin on it.
PARK_FAILED_PAUSE_S = 1.0


class CountedTask(Task):
    # Tasks that are never re-delivered (a shopper's query encoding: acked early, expiring)
    # set this to False and skip the cache round trips.
    count_deliveries = True

    def _counted(self) -> bool:
        request = self.request
        return self.count_deliveries and self.acks_late and not request.is_eager

    def before_start(self, task_id, args, kwargs) -> None:
        if not self._counted():
            return
        # Imported here: the Celery app resolves this class before Django's apps are loaded,
        # and the services module imports a model.
        from search.parking import services

        attempt = self.request.retries or 0
        deliveries = services.record_delivery(task_id=task_id, attempt=attempt)
        if deliveries is None or deliveries <= settings.VITRINE_TASK_MAX_DELIVERIES:
            return
        try:
            services.park_task(
                task_id=task_id,
                attempt=attempt,
                task_name=self.name,
                args=list(args),
                kwargs=dict(kwargs),
                queue=(self.request.delivery_info or {}).get("routing_key") or "",
                deliveries=deliveries,
            )
        except Exception:
            logger.exception(
                "could not park task %s[%s]; it goes back to the queue", self.name, task_id
            )
            time.sleep(PARK_FAILED_PAUSE_S)
            raise Reject("could not park it", requeue=True) from None
        # Dropped, not run: requeue=False acknowledges the message for good.
        raise Reject(f"parked after {deliveries} deliveries", requeue=False)

    def after_return(self, status, retval, task_id, args, kwargs, einfo) -> None:
        # Done or replaced by a retry: the message is acknowledged and never comes back. A
        # failure keeps its count and error until the window ends (best kept for a look).
        if status not in (states.SUCCESS, states.RETRY) or not self._counted():
            return
        from search.parking import services

        try:
            services.forget_deliveries(task_id=task_id, attempt=self.request.retries or 0)
        except Exception:  # best effort: the keys expire with the window anyway
            logger.warning("could not forget the deliveries of task %s", task_id, exc_info=True)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if not self._counted():
            return
        from search.parking import services

        try:
            services.remember_error(
                task_id=task_id,
                attempt=self.request.retries or 0,
                error=f"{exc.__class__.__name__}: {exc}",
            )
        except Exception:  # best effort: the error is only shown if the task is parked later
            logger.warning("could not remember the error of task %s", task_id, exc_info=True)
