"""The Celery app: settings come from Django's (`CELERY_*`), tasks from each app's tasks.py."""

import os

from celery import Celery

from config.bootstrap import bootstrap

# Before the app exists: Celery installs its Django fix-up only when this is set.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task of every app counts its deliveries and is parked after too many
# (search/parking/): a task that kills its worker each time must not be re-delivered forever.
app = Celery("vitrine", task_cls="search.parking.delivery:CountedTask")


@app.on_configure.connect
def _bootstrap(sender: Celery, **kwargs) -> None:
    """Runs once, when the app first reads its configuration, just before Django's settings
    load: in a worker or beat started with `celery -A config`, and in any other process the
    first time it publishes a task (where the entry point has bootstrapped already)."""
    bootstrap()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
