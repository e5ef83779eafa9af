"""Model adaptations in the admin: runs with their progress, the active index's and the new
index's figures side by side, and a page to start a run (staff with the add permission)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from search.adaptation import services
from search.models import AdaptationRun

METRICS = ("ndcg@10", "recall@50", "mrr@10")


class StartForm(forms.Form):
    steps = forms.IntegerField(min_value=1, required=False, help_text="default 300")
    batch_size = forms.IntegerField(min_value=2, required=False, help_text="default 32")
    lr = forms.FloatField(required=False, help_text="learning rate, default 1e-5")
    average = forms.FloatField(
        min_value=0, max_value=1, required=False,
        help_text="weight of the fine-tuned model in the average with the original (0.5)",
    )  # fmt: skip
    reranker = forms.BooleanField(required=False, label="Also train a reranker")
    queries = forms.CharField(required=False, help_text="judged queries TSV on the worker")
    qrels = forms.CharField(required=False, help_text="their judgments TSV on the worker")


@admin.register(AdaptationRun)
class AdaptationRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "status", "stage", "progress", "hybrid_ndcg", "index", "created_at")
    list_filter = ("status",)
    readonly_fields = (
        "status", "stage", "progress", "figures_side_by_side", "base_embedder", "options",
        "training_pairs", "held_aside", "timings", "model_dir", "reranker_path",
        "baseline_index", "index", "data_hash", "message", "error", "created_at",
        "started_at", "finished_at",
    )  # fmt: skip
    exclude = ("figures", "done_steps", "total_steps", "queries_path", "qrels_path")

    def has_add_permission(self, request) -> bool:
        return False  # started from the start page (or `manage.py adapt_models`)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a run's record is what happened

    @admin.display(description="progress")
    def progress(self, obj: AdaptationRun) -> str:
        if not obj.total_steps:
            return "–"
        return format_html(
            '<progress max="{}" value="{}"></progress> {} / {}',
            obj.total_steps, obj.done_steps, obj.done_steps, obj.total_steps,
        )  # fmt: skip

    @admin.display(description="hybrid NDCG@10: active → adapted")
    def hybrid_ndcg(self, obj: AdaptationRun) -> str:
        figures = obj.figures or {}
        if "active" not in figures or "adapted" not in figures:
            return "–"
        before = figures["active"].get("hybrid", {}).get("ndcg@10", 0)
        after = figures["adapted"].get("hybrid", {}).get("ndcg@10", 0)
        return f"{before:.4f} → {after:.4f}"

    @admin.display(description="figures on the judged queries")
    def figures_side_by_side(self, obj: AdaptationRun) -> str:
        figures = obj.figures or {}
        if not figures:
            return "not measured (start a run with judged queries)"
        names = list(figures)
        head = format_html_join(
            "", "<th>{} (index {})</th>", ((n, figures[n].get("index")) for n in names)
        )
        rows = []
        for mode in ("lexical", "vector", "hybrid"):
            for metric in METRICS:
                cells = [figures[n].get(mode, {}).get(metric) for n in names]
                if all(c is None for c in cells):
                    continue
                rows.append(
                    format_html(
                        "<tr><td>{} {}</td>{}</tr>",
                        mode,
                        metric,
                        format_html_join(
                            "",
                            "<td>{}</td>",
                            (("–" if c is None else f"{c:.4f}",) for c in cells),
                        ),
                    )
                )
        return format_html(
            "<table><thead><tr><th></th>{}</tr></thead><tbody>{}</tbody></table>",
            head,
            format_html_join("", "{}", ((r,) for r in rows)),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name="search_adaptationrun_start"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_start": self._can_start(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def _can_start(self, request) -> bool:
        return request.user.is_staff and request.user.has_perm("search.add_adaptationrun")

    def start_view(self, request):
        if not self._can_start(request):
            raise PermissionDenied
        form = StartForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                options = services.adaptation_options(
                    steps=data["steps"], batch_size=data["batch_size"], lr=data["lr"],
                    average=data["average"], reranker=data["reranker"],
                )  # fmt: skip
                run = services.start_adaptation(
                    options=options, queries=data["queries"], qrels=data["qrels"]
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"Adaptation {run.pk} sent to a worker; its progress shows here.",
                    messages.SUCCESS,
                )
                return redirect("admin:search_adaptationrun_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Adapt the models to the catalog",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/search/adaptationrun/start.html", context)
