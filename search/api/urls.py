from django.urls import path

from search.api import events, insights, merchandising, suggest, views

app_name = "search-api"
urlpatterns = [
    path("search", views.SearchView.as_view(), name="search"),
    path("products/<path:sku>/similar", views.SimilarProductsView.as_view(), name="similar"),
    path("events", events.ResultEventView.as_view(), name="events"),
    path("suggest", suggest.SuggestView.as_view(), name="suggest"),
    path("insights/summary", insights.InsightsSummaryView.as_view(), name="insights-summary"),
    path("insights/queries", insights.InsightsQueriesView.as_view(), name="insights-queries"),
    path("synonyms", merchandising.SynonymListView.as_view(), name="synonyms"),
    path("synonyms/csv", merchandising.SynonymCsvView.as_view(), name="synonyms-csv"),
    path("synonyms/<int:pk>", merchandising.SynonymDetailView.as_view(), name="synonym"),
    path("rules", merchandising.RuleListView.as_view(), name="rules"),
    path("rules/<int:pk>", merchandising.RuleDetailView.as_view(), name="rule"),
]
