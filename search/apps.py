from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search index"

    def ready(self) -> None:
        # receivers: connect the catalog's announcements. tasks: register search's Celery
        # tasks in every process, so a task sent by name (search.indexing.queue) takes
        # Celery's own path here too, and runs in-process when tasks are eager.
        from search import receivers, tasks  # noqa: F401
