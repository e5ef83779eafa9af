from django.urls import path

from search.api import events, views

app_name = "search-api"
urlpatterns = [
    path("search", views.SearchView.as_view(), name="search"),
    path("products/<path:sku>/similar", views.SimilarProductsView.as_view(), name="similar"),
    path("events", events.ResultEventView.as_view(), name="events"),
]
