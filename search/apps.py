from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search index"

    def ready(self) -> None:
        from search import receivers  # noqa: F401  (connects catalog announcements)
