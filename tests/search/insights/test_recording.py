"""Every search is recorded as it was answered, once drained from the Redis buffer: the
query, what the page showed and where, how long it took, and a visitor key that holds no
address. Recording can be turned off, and a Redis that is down costs events, counted, never
a search."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from search.insights import buffer
from search.insights.draining import drain_search_events
from search.insights.models import InsightsDay, SearchEvent
from search.insights.recording import normalised_query
from tests.search.insights.conftest import SHOPPER, UNREACHABLE, api_search

pytestmark = pytest.mark.django_db


def _redis():
    return cache._cache.get_client(None, write=True)


def test_an_api_search_returns_a_search_id_and_its_drained_row_is_what_was_answered(towels, client):
    body = api_search(client, q="  Bath   TOWEL ", page_size=2, sort="price_asc")
    search_id = body["search_id"]
    assert uuid.UUID(search_id)
    assert not SearchEvent.objects.exists()  # buffered, not written by the request

    report = drain_search_events()

    assert report.searches == 1
    row = SearchEvent.objects.get(search_id=search_id)
    assert row.source == "api"
    assert row.query == "Bath TOWEL" and row.normalised_query == "bath towel"
    assert row.mode == "lexical" and row.sort == "price_asc" and row.page == 1
    assert row.photo is False and row.filters == {}
    assert row.result_count == body["count"] > 2 and row.zero_results is False
    assert len(row.shown) == 2
    assert row.shown == [hit["sku"] for hit in body["results"]] and row.first_position == 1
    assert row.latency_ms == pytest.approx(body["timings_ms"]["total"])
    assert row.embedder == body["model"]["embedder"]
    assert re.fullmatch(r"[0-9a-f]{32}", row.visitor)
    # Nothing that names the shopper: not the address, not the user agent.
    stored = " ".join(str(getattr(row, f.attname)) for f in SearchEvent._meta.fields)
    assert "203.0.113.7" not in stored and "Mozilla" not in stored


def test_filters_and_later_pages_are_recorded_with_their_positions(towels, client):
    body = api_search(client, q="towel", page_size=1, page=3, brand="Nobody", price_max="50")
    drain_search_events()
    row = SearchEvent.objects.get(search_id=body["search_id"])
    assert row.filters == {"brands": ["Nobody"], "price_max": "50"}
    assert row.page == 3 and row.first_position == 3
    assert row.zero_results is True and row.shown == []


def test_a_zero_result_search_is_recorded_as_one(towels, client):
    body = api_search(client, q="anvil")
    drain_search_events()
    row = SearchEvent.objects.get(search_id=body["search_id"])
    assert row.zero_results and row.result_count == 0 and row.shown == []


def test_the_visitor_key_links_a_days_searches_of_one_client_and_no_more(
    towels, client, monkeypatch
):
    first = api_search(client, q="towel")["search_id"]
    again = api_search(client, q="mug")["search_id"]
    elsewhere = {**SHOPPER, "REMOTE_ADDR": "198.51.100.2"}
    other = client.get("/api/v1/search", {"q": "towel", "mode": "lexical"}, **elsewhere)
    other = other.json()["search_id"]
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr("search.insights.recording.timezone.now", lambda: tomorrow)
    next_day = api_search(client, q="towel")["search_id"]
    drain_search_events()
    visitor = dict(SearchEvent.objects.values_list("search_id", "visitor"))
    assert visitor[uuid.UUID(first)] == visitor[uuid.UUID(again)]
    assert visitor[uuid.UUID(other)] != visitor[uuid.UUID(first)]
    assert visitor[uuid.UUID(next_day)] != visitor[uuid.UUID(first)]


def test_storefront_result_links_carry_the_search_id_and_their_places(towels, client, settings):
    settings.SEARCH_PAGE_SIZE = 1
    html = client.get("/search", {"q": "bath towel", "mode": "lexical", "page": 2}, **SHOPPER)
    html = html.content.decode()
    search_id = re.search(r'data-search-id="([0-9a-f-]{36})"', html).group(1)
    assert 'data-position="2"' in html and 'data-position="1"' not in html
    assert re.search(r'<script src="/static/search/clicks\.js"[^>]* defer>', html)
    drain_search_events()
    row = SearchEvent.objects.get(search_id=search_id)
    assert row.source == "storefront" and row.first_position == 2 and len(row.shown) == 1
    assert f'data-sku="{row.shown[0]}" data-position="2"' in html


def test_with_analytics_off_nothing_is_recorded_and_search_id_is_null(towels, client, settings):
    settings.VITRINE_ANALYTICS = False
    assert api_search(client, q="towel")["search_id"] is None
    html = client.get("/search", {"q": "towel", "mode": "lexical"}, **SHOPPER).content.decode()
    assert 'data-sku="TWL-1"' in html  # the results are there ...
    assert "data-search-id" not in html and "clicks.js" not in html  # ... untracked
    drain_search_events()
    assert not SearchEvent.objects.exists()
    assert _redis().llen(buffer.key(buffer.EVENTS)) == 0


def test_with_redis_down_search_answers_and_the_lost_events_reach_the_dashboard(
    towels, client, monkeypatch
):
    monkeypatch.setattr(buffer, "RETRY_AFTER_S", 0.0)  # try Redis again at once when it is back
    with override_settings(CACHES=UNREACHABLE):
        down = client.get("/api/v1/search", {"q": "towel", "mode": "lexical"}, **SHOPPER)
        assert down.status_code == 200 and down.json()["count"] == 3
        assert down.json()["search_id"] is None  # nothing to click against
        page = client.get("/search", {"q": "mug", "mode": "lexical"}, **SHOPPER)
        assert page.status_code == 200 and "data-search-id" not in page.content.decode()
        assert buffer.lost_in_process() == 2
        assert drain_search_events().searches == 0  # nothing to drain from, no error

    # Redis is back: the next recorded search carries the count into Redis ...
    assert api_search(client, q="towel")["search_id"] is not None
    assert buffer.lost_in_process() == 0
    assert int(_redis().get(buffer.key(buffer.LOST))) == 2
    # ... and the drain into the day's insights, where the dashboard reads it.
    report = drain_search_events()
    assert report.lost == 2 and report.searches == 1
    assert InsightsDay.objects.get(day=timezone.localdate()).lost_events == 2
    assert int(_redis().get(buffer.key(buffer.LOST))) == 0


def test_a_batch_taken_by_a_drain_that_died_is_written_by_the_next_one(towels, client):
    ids = [api_search(client, q=q)["search_id"] for q in ("towel", "mug", "beach")]
    redis = _redis()
    # A drain took the first two and died before committing them.
    redis.lmove(buffer.key(buffer.EVENTS), buffer.key(buffer.DRAINING), "LEFT", "RIGHT")
    redis.lmove(buffer.key(buffer.EVENTS), buffer.key(buffer.DRAINING), "LEFT", "RIGHT")
    report = drain_search_events()
    assert report.searches == 3
    assert {str(i) for i in SearchEvent.objects.values_list("search_id", flat=True)} == set(ids)
    assert redis.llen(buffer.key(buffer.DRAINING)) == 0
    # A batch written and committed, then left behind by a crash: written again, nothing twice.
    api_search(client, q="coffee")
    raw = redis.lrange(buffer.key(buffer.EVENTS), 0, -1)
    drain_search_events()
    redis.rpush(buffer.key(buffer.DRAINING), *raw)
    drain_search_events()
    assert SearchEvent.objects.count() == 4


def test_normalised_query_folds_case_and_whitespace_as_the_search_does():
    assert normalised_query("  Bath\tTOWEL\x00 ") == "bath towel"
    assert normalised_query("") == ""


def test_an_event_the_database_refuses_is_skipped_and_the_rest_written(towels, client):
    good = api_search(client, q="towel")["search_id"]
    raw = _redis().lindex(buffer.key(buffer.EVENTS), 0)
    bad = {**json.loads(raw), "search_id": str(uuid.uuid4()), "normalised_query": "x" * 600}
    _redis().rpush(buffer.key(buffer.EVENTS), json.dumps(bad))
    report = drain_search_events()
    assert (report.searches, report.skipped) == (1, 1)
    assert [str(i) for i in SearchEvent.objects.values_list("search_id", flat=True)] == [good]
    assert _redis().llen(buffer.key(buffer.DRAINING)) == 0  # not retried for ever
