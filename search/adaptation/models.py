"""One adaptation of the models to the catalog: what it was asked, how far it is, what it
made (model folders, a new search index) and what that measured against the active index."""

from __future__ import annotations

from django.db import models


class AdaptationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        SKIPPED = "skipped"  # a model this job cannot adapt: `message` says why
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True, help_text="what it is doing now")
    done_steps = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True, help_text="steps, batch, lr, ...")
    base_embedder = models.CharField(max_length=500, blank=True)
    data_hash = models.CharField(max_length=64, blank=True)
    training_pairs = models.JSONField(default=dict, blank=True, help_text="pairs by kind")
    model_dir = models.CharField(max_length=1000, blank=True)
    reranker_path = models.CharField(max_length=1000, blank=True)
    baseline_index = models.ForeignKey(
        "search.SearchIndex", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    index = models.ForeignKey(
        "search.SearchIndex",
        null=True,
        blank=True,
        related_name="adaptation_runs",
        on_delete=models.SET_NULL,
        help_text="the new index, built with the adapted embedder (not activated)",
    )
    queries_path = models.CharField(max_length=1000, blank=True)
    qrels_path = models.CharField(max_length=1000, blank=True)
    figures = models.JSONField(
        default=dict, blank=True, help_text="{index: {mode: {metric: value}}} on judged queries"
    )
    held_aside = models.JSONField(default=dict, blank=True, help_text="pseudo-query checks")
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per stage")
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"adaptation {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done_steps / self.total_steps) if self.total_steps else 0
