from django.contrib import admin
from django.utils.html import format_html

from catalog.models import Category, Product, ProductImage


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 1
    fields = ("preview", "file", "position", "alt", "width", "height", "checksum")
    readonly_fields = ("preview", "width", "height", "checksum")

    @admin.display(description="Photo")
    def preview(self, obj: ProductImage) -> str:
        if not obj.pk or not obj.file:
            return "—"
        return format_html('<img src="{}" style="max-height:64px">', obj.file.url)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "slug", "path")
    search_fields = ("name", "path")
    readonly_fields = ("path",)

    def save_model(self, request, obj: Category, form, change) -> None:
        obj.path = f"{obj.parent.path}/{obj.slug}" if obj.parent else obj.slug
        super().save_model(request, obj, form, change)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "brand", "category", "price", "currency", "active", "updated_at")
    list_filter = ("active", "category", "brand")
    search_fields = ("sku", "name", "brand")
    list_select_related = ("category",)
    inlines = [ProductImageInline]
    readonly_fields = ("created_at", "updated_at")


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ("product", "position", "width", "height", "checksum")
    search_fields = ("product__sku",)
    readonly_fields = ("width", "height", "checksum")
