from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    # `path`: a SKU saved before the no-slash rule (catalog.models) may hold one ("AB/12").
    path("products/<path:sku>/", views.product_detail, name="product-detail"),
]
