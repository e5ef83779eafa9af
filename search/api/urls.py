from django.urls import path

from search.api import views

app_name = "search-api"
urlpatterns = [
    path("search", views.SearchView.as_view(), name="search"),
    path("products/<path:sku>/similar", views.SimilarProductsView.as_view(), name="similar"),
]
