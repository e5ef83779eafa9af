from django.contrib import admin

from search.indexing import index_status
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
        "created_at",
    )
    readonly_fields = ("embedder", "revision", "dims", "modalities", "created_at")

    @admin.display(description="products / indexed / pending / failed")
    def status(self, obj: SearchIndex) -> str:
        s = index_status(obj)
        return f"{s['products']} / {s['indexed']} / {s['pending']} / {s['failed']}"


@admin.register(ProductEmbedding)
class ProductEmbeddingAdmin(admin.ModelAdmin):
    list_display = ("product", "index", "has_vector", "index_error", "embedded_at")
    list_filter = ("index",)
    search_fields = ("product__sku", "index_error")
    list_select_related = ("product", "index")
    exclude = ("embedding",)
    readonly_fields = ("index", "product", "document_hash", "index_error", "embedded_at")

    @admin.display(boolean=True, description="vector")
    def has_vector(self, obj: ProductEmbedding) -> bool:
        return obj.embedding is not None
