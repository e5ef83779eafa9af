from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    # `path`: SKUs come from shops' spreadsheets, and some hold a slash ("AB/12").
    path("products/<path:sku>/", views.product_detail, name="product-detail"),
]
