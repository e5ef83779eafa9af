"""Fixtures of the indexing tests."""

from __future__ import annotations

import pytest

from config.celery import app


@pytest.fixture
def eager():
    """Celery tasks run where they are sent (enqueue_embedding's tasks, the sweeper's)."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
