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
    # `path`: some shops' SKUs hold a slash ("AB/12"); ".../similar" is matched first (search).
    path("products/<path:sku>", views.ProductDetailView.as_view(), name="product-detail"),
]
