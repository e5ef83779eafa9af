"""POST /api/v1/events: a click, add to cart or purchase is checked against what its search
showed and recorded where the search showed it, once per visitor; anything else is a 4xx with
the reason, never a 5xx."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, override_settings

from search.insights import buffer
from search.insights.draining import drain_search_events
from search.insights.models import ResultEvent, SearchEvent
from tests.search.insights.conftest import SHOPPER, UNREACHABLE, api_search

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def post(client, body, content_type="application/json", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data, content_type=content_type, **{**SHOPPER, **extra})


@pytest.fixture
def second_page(towels, client):
    """A search for "towel" whose page 2 (one result a page) showed one SKU, at place 2."""
    body = api_search(client, q="Towel", page_size=1, page=2)
    assert len(body["results"]) == 1
    return body["search_id"], body["results"][0]["sku"]


def test_a_click_on_a_shown_result_is_recorded_where_the_search_showed_it(second_page, client):
    search_id, sku = second_page
    response = post(client, {"search_id": search_id, "sku": sku, "type": "click", "position": 7})
    assert response.status_code == 202
    assert response.json() == {"recorded": True, "position": 2}
    drain_search_events()
    event = ResultEvent.objects.get()
    assert (event.type, event.sku, event.position) == ("click", sku, 2)
    assert str(event.search_id) == search_id and event.normalised_query == "towel"
    # The same shopper (address and browser) as the search's, and no address kept.
    assert event.visitor == SearchEvent.objects.get(search_id=search_id).visitor
    assert "203.0.113.7" not in event.visitor


def test_the_same_event_twice_from_one_visitor_is_recorded_once(second_page, client):
    search_id, sku = second_page
    event = {"search_id": search_id, "sku": sku, "type": "click"}
    assert post(client, event).status_code == 202
    again = post(client, event)
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert post(client, {**event, "type": "add_to_cart"}).status_code == 202  # another event
    drain_search_events()
    assert sorted(ResultEvent.objects.values_list("type", flat=True)) == ["add_to_cart", "click"]


def test_a_click_on_a_sku_the_search_did_not_show_is_refused(second_page, client):
    search_id, sku = second_page
    other = "MUG-1" if sku != "MUG-1" else "TWL-1"
    response = post(client, {"search_id": search_id, "sku": other, "type": "click"})
    assert response.status_code == 400
    assert "did not show" in response.json()["sku"][0]


def test_adding_to_cart_a_product_the_search_did_not_show_is_accepted(second_page, client):
    search_id, _ = second_page
    response = post(client, {"search_id": search_id, "sku": "MUG-1", "type": "add_to_cart"})
    assert response.status_code == 202 and response.json()["position"] is None
    bought = post(client, {"search_id": search_id, "sku": "MUG-1", "type": "purchase"})
    assert bought.status_code == 202
    drain_search_events()
    assert set(ResultEvent.objects.values_list("type", "position")) == {
        ("add_to_cart", None),
        ("purchase", None),
    }


def test_a_product_that_does_not_exist_is_refused_even_in_a_cart(second_page, client):
    search_id, _ = second_page
    response = post(client, {"search_id": search_id, "sku": "NOPE-404", "type": "purchase"})
    assert response.status_code == 400 and "unknown SKU" in response.json()["sku"][0]


def test_an_unknown_search_id_is_refused_with_the_reason(towels, client):
    response = post(client, {"search_id": str(uuid.uuid4()), "sku": "TWL-1", "type": "click"})
    assert response.status_code == 400
    assert "unknown search_id" in response.json()["search_id"][0]


def test_a_search_past_its_day_in_redis_is_checked_against_its_drained_row(second_page, client):
    search_id, sku = second_page
    drain_search_events()
    cache._cache.get_client(None, write=True).delete(buffer.key(buffer.shown_key(search_id)))
    response = post(client, {"search_id": search_id, "sku": sku, "type": "click"})
    assert response.status_code == 202 and response.json()["position"] == 2


def test_a_logged_in_shoppers_beacon_needs_no_csrf_token(second_page):
    search_id, sku = second_page
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.create_user("shopper", password="x"))
    body = json.dumps({"search_id": search_id, "sku": sku, "type": "click"})
    # What navigator.sendBeacon sends for a string body.
    response = post(browser, body, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202


def test_with_analytics_off_events_are_accepted_and_not_recorded(second_page, client, settings):
    search_id, sku = second_page
    settings.VITRINE_ANALYTICS = False
    response = post(client, {"search_id": search_id, "sku": sku, "type": "click"})
    assert response.status_code == 200 and response.json()["recorded"] is False
    drain_search_events()
    assert not ResultEvent.objects.exists()


def hostile_bodies(search_id: str, sku: str):
    good = {"search_id": search_id, "sku": sku, "type": "click"}
    yield "not json at all", "application/json"
    yield "{'search_id': 1}", "text/plain"
    yield json.dumps([good]), "application/json"
    yield json.dumps("just a string"), "application/json"
    yield "[" * 1500 + "]" * 1500, "application/json"  # too deep for the JSON parser
    yield json.dumps({**good, "search_id": "'; DROP TABLE search_searchevent; --"}), None
    yield json.dumps({**good, "search_id": 12345}), None
    yield json.dumps({**good, "search_id": "x" * 5000}), None
    yield json.dumps({**good, "sku": "TWL-1\x00"}), None
    yield json.dumps({**good, "sku": "\u202e\x1b[31m"}), None
    yield json.dumps({**good, "sku": ["TWL-1"]}), None
    yield json.dumps({**good, "sku": "A" * 201}), None
    yield json.dumps({**good, "type": "view"}), None
    yield json.dumps({**good, "type": None}), None
    yield json.dumps({**good, "position": "first"}), None
    yield json.dumps({**good, "position": 0}), None
    yield json.dumps({**good, "position": True}), None
    yield json.dumps({**good, "position": 10**30}), None
    yield json.dumps({**good, "padding": "x" * 100_000}), None  # too large
    yield "search_id=1&sku=2", "application/x-www-form-urlencoded"
    yield b"\xff\xfe\x00garbage", "application/json"
    yield "", "application/json"
    yield "null", "application/json"
    yield '{"search_id": NaN}', "application/json"


def test_hostile_bodies_get_a_4xx_never_a_5xx(second_page, client):
    search_id, sku = second_page
    for body, content_type in hostile_bodies(search_id, sku):
        response = post(client, body, content_type=content_type or "application/json")
        assert 400 <= response.status_code < 500, (body[:80], response.status_code)
    assert client.get(URL).status_code == 405
    drain_search_events()
    assert not ResultEvent.objects.exists()


def test_a_flood_of_events_is_throttled_with_429(second_page, client, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    search_id, sku = second_page
    statuses = [
        post(client, {"search_id": search_id, "sku": sku, "type": "click"}).status_code
        for _ in range(5)
    ]
    # One budget per address for searches and events: the search, two events, then 429s.
    assert statuses == [202, 200, 429, 429, 429]


def test_events_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    post_op = schema["paths"]["/api/v1/events"]["post"]
    assert {"202", "400", "429"} <= set(post_op["responses"])
    search = schema["components"]["schemas"]["SearchResponse"]["properties"]
    assert search["search_id"]["nullable"] is True


def test_with_redis_down_a_valid_event_is_counted_as_lost_and_a_bad_one_still_refused(
    second_page, client
):
    search_id, sku = second_page
    drain_search_events()  # its row is in the database: it can still be checked
    with override_settings(CACHES=UNREACHABLE):
        lost = post(client, {"search_id": search_id, "sku": sku, "type": "click"})
        assert lost.status_code == 503 and buffer.lost_in_process() == 1
        unknown = post(client, {"search_id": str(uuid.uuid4()), "sku": sku, "type": "click"})
        assert unknown.status_code == 400
    assert buffer.lost_in_process() == 1
