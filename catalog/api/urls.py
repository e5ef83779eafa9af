from django.urls import path

from catalog.api import views

app_name = "catalog-api"
urlpatterns = [
    path("imports", views.ImportListCreateView.as_view(), name="imports"),
    path("imports/<int:pk>", views.ImportDetailView.as_view(), name="import-detail"),
    path(
        "imports/<int:pk>/failed-rows",
        views.ImportFailedRowsView.as_view(),
        name="import-failed-rows",
    ),
    path("products", views.ProductListCreateView.as_view(), name="products"),
    # `path`: a SKU saved before the no-slash rule may hold one; ".../similar" is matched first.
    path("products/<path:sku>", views.ProductDetailView.as_view(), name="product-detail"),
]
