"""The parked tasks' table (imported by search.models so Django registers it with the app)."""

from __future__ import annotations

from django.db import models


class ParkedTask(models.Model):
    """A task set aside after too many deliveries; the admin re-sends or discards it."""

    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=255)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=255, blank=True)
    error = models.TextField(
        help_text="the task's last exception, or why there was none (its worker died)"
    )
    deliveries = models.PositiveIntegerField(
        help_text="times a worker received it, the last one (which parked it) included"
    )
    first_seen = models.DateTimeField(help_text="its first delivery")
    last_seen = models.DateTimeField(help_text="the delivery that parked it")

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}]"
