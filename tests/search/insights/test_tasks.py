"""Celery beat drains the buffer every few seconds, rolls up every minute and purges daily;
each task is a plain call of its service, and none piles up when a worker is late."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from search import tasks
from search.insights.models import InsightsDay, QueryDay, SearchEvent
from tests.search.insights.conftest import api_search

pytestmark = pytest.mark.django_db


def test_beat_runs_the_insights_tasks_and_none_piles_up():
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    drain = schedule["search.tasks.drain_search_events"]
    assert drain["schedule"] == settings.VITRINE_ANALYTICS_DRAIN_S
    assert schedule["search.tasks.roll_up_search_insights"]["schedule"] == 60.0
    assert schedule["search.tasks.purge_search_events"]["schedule"] == 24 * 3600.0
    for name in ("drain_search_events", "roll_up_search_insights", "purge_search_events"):
        entry = schedule[f"search.tasks.{name}"]
        assert entry["options"]["expires"] == entry["schedule"]


def test_a_search_reaches_the_days_insights_through_the_tasks(towels, client):
    api_search(client, q="towel")
    api_search(client, q="anvil")
    assert tasks.drain_search_events.apply().get()["searches"] == 2
    tasks.roll_up_search_insights.apply().get()
    day = InsightsDay.objects.get(day=timezone.localdate())
    assert (day.searches, day.zero_result_searches) == (2, 1)
    assert QueryDay.objects.get(normalised_query="anvil").zero_result_searches == 1
    assert tasks.purge_search_events.apply().get()["searches"] == 0  # nothing is 90 days old
    assert SearchEvent.objects.count() == 2
