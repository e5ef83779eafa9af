from django.urls import path, re_path

from search.storefront import rule_preview, views
from search.storefront.photo_store import KEY_PATTERN

app_name = "search"
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search_page, name="search"),
    path("merchandising/preview", rule_preview.rule_preview, name="rule-preview"),
    re_path(rf"^search/photo/(?P<key>{KEY_PATTERN})\.jpg$", views.query_photo, name="query-photo"),
]
