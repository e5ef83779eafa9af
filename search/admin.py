from django.contrib import admin

from search.indexing.indexes import index_status
from search.indexing.sweeper import TASK_FAILED_PREFIX
from search.insights.dashboard import InsightsDashboardAdmin
from search.insights.models import InsightsDay
from search.merchandising import admin as merchandising_admin  # noqa: F401 (registers them)
from search.models import ProductEmbedding, SearchIndex


@admin.register(SearchIndex)
class SearchIndexAdmin(admin.ModelAdmin):
    list_display = (
        "embedder",
        "revision",
        "dims",
        "modalities",
        "state",
        "active",
        "status",
        "failed_tasks",
        "created_at",
    )
    readonly_fields = ("embedder", "revision", "dims", "modalities", "created_at")

    @admin.display(description="products / indexed / pending / failed")
    def status(self, obj: SearchIndex) -> str:
        s = index_status(obj)
        return f"{s['products']} / {s['indexed']} / {s['pending']} / {s['failed']}"

    @admin.display(description="failed tasks")
    def failed_tasks(self, obj: SearchIndex) -> int:
        """Products whose embedding task spent its retries (see the embeddings' filter)."""
        return obj.embeddings.filter(index_error__startswith=TASK_FAILED_PREFIX).count()


class ProblemFilter(admin.SimpleListFilter):
    title = "problem"
    parameter_name = "problem"

    def lookups(self, request, model_admin):
        return [
            ("task", "embedding task failed (retries spent)"),
            ("flagged", "flagged (no vector or no photo)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "task":
            return queryset.filter(index_error__startswith=TASK_FAILED_PREFIX)
        if self.value() == "flagged":
            return queryset.exclude(index_error="")
        return queryset


@admin.register(ProductEmbedding)
class ProductEmbeddingAdmin(admin.ModelAdmin):
    list_display = ("product", "index", "has_vector", "index_error", "embedded_at")
    list_filter = ("index", ProblemFilter)
    search_fields = ("product__sku", "index_error")
    list_select_related = ("product", "index")
    exclude = ("embedding",)
    readonly_fields = ("index", "product", "document_hash", "index_error", "embedded_at")

    @admin.display(boolean=True, description="vector")
    def has_vector(self, obj: ProductEmbedding) -> bool:
        return obj.embedding is not None


# The "Search insights" page lives on the daily totals' admin (search.insights.dashboard).
admin.site.register(InsightsDay, InsightsDashboardAdmin)

# Parked tasks' and model adaptations' admins live with their code; importing them registers them.
from search.adaptation import admin as adaptation_admin  # noqa: E402, F401
from search.parking import admin as parking_admin  # noqa: E402, F401
