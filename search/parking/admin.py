"""Parked tasks in the admin: what was parked and why, with a retry and a discard."""

from __future__ import annotations

from django.contrib import admin, messages

from search.parking import services
from search.parking.models import ParkedTask


@admin.register(ParkedTask)
class ParkedTaskAdmin(admin.ModelAdmin):
    list_display = ("task_name", "short_error", "deliveries", "first_seen", "last_seen", "queue")
    list_filter = ("task_name", "queue")
    search_fields = ("task_id", "task_name", "error")
    readonly_fields = (
        "task_id", "task_name", "args", "kwargs", "queue", "error", "deliveries",
        "first_seen", "last_seen",
    )  # fmt: skip
    actions = ("retry", "discard")

    def has_add_permission(self, request) -> bool:
        return False  # only a worker parks a task

    @admin.display(description="error")
    def short_error(self, obj: ParkedTask) -> str:
        return obj.error if len(obj.error) <= 120 else obj.error[:119] + "…"

    @admin.action(description="Retry: send the selected tasks again", permissions=["change"])
    def retry(self, request, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        try:
            sent = services.retry_parked_tasks(parked_ids=ids)
        except Exception as exc:  # the broker is down: what was not sent stays parked
            self.message_user(request, f"Could not send the tasks: {exc}", messages.ERROR)
            return
        self.message_user(request, f"Sent {sent} task(s) again.", messages.SUCCESS)

    @admin.action(description="Discard: drop the selected tasks for good", permissions=["delete"])
    def discard(self, request, queryset) -> None:
        dropped = services.discard_parked_tasks(
            parked_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"Discarded {dropped} task(s).", messages.SUCCESS)
