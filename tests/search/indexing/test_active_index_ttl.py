"""Searches trust the active index they last read for SEARCH_ACTIVE_INDEX_TTL_S: a switch made
by another process (a worker, an admin's shell) reaches them within that time."""

from __future__ import annotations

import pytest

from search.indexing import indexes
from search.models import SearchIndex


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(indexes.time, "monotonic", lambda: now[0])
    return now


def _index(name: str, *, active: bool) -> SearchIndex:
    return SearchIndex.objects.create(
        embedder=name, dims=384, modalities=["text"], active=active, state="ready"
    )


def test_a_switch_elsewhere_is_seen_once_the_ttl_has_passed(db, settings, clock):
    settings.SEARCH_ACTIVE_INDEX_TTL_S = 2.0
    old, new = _index("old-model", active=True), _index("new-model", active=False)
    assert indexes.active_index_for_search() == old
    # Another process flips the indexes: this one does not hear of it.
    SearchIndex.objects.filter(pk=old.pk).update(active=False, state="retired")
    SearchIndex.objects.filter(pk=new.pk).update(active=True)
    clock[0] += 1.5
    assert indexes.active_index_for_search() == old  # the retired index still answers
    clock[0] += 1.0
    assert indexes.active_index_for_search() == new


def test_a_switch_in_this_process_is_seen_at_once(
    db, settings, clock, django_capture_on_commit_callbacks
):
    settings.SEARCH_ACTIVE_INDEX_TTL_S = 60.0
    old, new = _index("old-model", active=True), _index("new-model", active=False)
    assert indexes.active_index_for_search() == old
    with django_capture_on_commit_callbacks(execute=True):
        indexes.activate_index(new)
    assert indexes.active_index_for_search() == new


def test_a_shop_without_an_index_sees_its_first_one_at_once(db, settings, clock):
    settings.SEARCH_ACTIVE_INDEX_TTL_S = 60.0
    assert indexes.active_index_for_search() is None
    first = _index("first-model", active=True)
    assert indexes.active_index_for_search() == first


def test_ttl_zero_reads_the_database_every_time(db, settings, clock):
    settings.SEARCH_ACTIVE_INDEX_TTL_S = 0
    old, new = _index("old-model", active=True), _index("new-model", active=False)
    assert indexes.active_index_for_search() == old
    SearchIndex.objects.filter(pk=old.pk).update(active=False)
    SearchIndex.objects.filter(pk=new.pk).update(active=True)
    assert indexes.active_index_for_search() == new
