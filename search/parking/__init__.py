"""Parked tasks: a task that was delivered too many times (its worker died every time it ran
it: a segfault, an out-of-memory kill, an `os._exit` in a library) is set aside instead of
being re-delivered forever, and the rest of its queue keeps flowing.

    worker takes a message -> delivery.CountedTask.before_start counts it (Redis, by task id and
    retry number) -> over VITRINE_TASK_MAX_DELIVERIES: services.park_task records a ParkedTask
    (admin: retry or discard) and the message is dropped without running the task's body

Every task of both apps counts, because the Celery app's task class is CountedTask
(config/celery.py); the catalog knows nothing of it.
"""
