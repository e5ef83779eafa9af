from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("products/<str:sku>/", views.product_detail, name="product-detail"),
]
