from django.urls import path

from search.api import events, insights, views

app_name = "search-api"
urlpatterns = [
    path("search", views.SearchView.as_view(), name="search"),
    path("products/<path:sku>/similar", views.SimilarProductsView.as_view(), name="similar"),
    path("events", events.ResultEventView.as_view(), name="events"),
    path("insights/summary", insights.InsightsSummaryView.as_view(), name="insights-summary"),
    path("insights/queries", insights.InsightsQueriesView.as_view(), name="insights-queries"),
]
