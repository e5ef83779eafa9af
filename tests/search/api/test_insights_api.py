"""GET /api/v1/insights/summary and /queries: staff only, the dashboard's numbers, a 400
naming a bad parameter, documented in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from search.api.insights import QueryRowSerializer, SummarySerializer
from search.insights import selectors
from search.insights.periods import parse_period
from tests.support.insights import click, search_event, write_busy_week

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/insights/summary"
QUERIES = "/api/v1/insights/queries"


@pytest.fixture
def busy_week(db):
    write_busy_week()


@pytest.fixture
def staff_token():
    staff = User.objects.create_user("ops", is_staff=True)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=staff).key}"}


def test_summary_for_staff_by_token_has_the_dashboards_numbers(client, staff_token, busy_week):
    response = client.get(SUMMARY, {"period": "7d"}, **staff_token)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == set(SummarySerializer().fields)
    expected = selectors.insights_summary(period=parse_period(period="7d"))
    assert data["searches"] == expected.searches == 72
    assert data["lost_events"] == 4
    assert data["click_through_rate"] == pytest.approx(26 / 72)
    assert data["p95_ms"] == pytest.approx(expected.p95_ms)
    assert data["period"]["key"] == "7d" and data["series_unit"] == "day"
    assert len(data["series"]) == 7 and data["series"][-1]["searches"] == 41


def test_queries_in_each_order_with_limit(client, staff_token, busy_week):
    data = client.get(QUERIES, {"period": "7d", "order": "zero", "limit": 2}, **staff_token).json()
    assert (data["order"], data["limit"]) == ("zero", 2)
    assert [q["label"] for q in data["queries"]] == ["unicorn saddle", "(photo queries)"]
    assert set(data["queries"][0]) == set(QueryRowSerializer().fields)
    assert data["queries"][1]["photo"] is True and data["queries"][1]["query"] == ""
    default = client.get(QUERIES, **staff_token).json()
    assert (default["order"], default["period"]["key"]) == ("count", "7d")
    assert default["queries"][0] == {
        **default["queries"][0],
        "query": "towel",
        "searches": 40,
        "click_through_rate": 0.5,
    }
    slow = client.get(QUERIES, {"order": "slow"}, **staff_token).json()
    assert slow["queries"][0]["query"] == "lamp"


def test_custom_period_by_from_and_to(client, staff_token, busy_week):
    first = parse_period(period="7d").first_day
    data = client.get(SUMMARY, {"from": first.isoformat(), "to": first.isoformat()}, **staff_token)
    assert data.status_code == 200
    assert data.json()["period"]["key"] == "custom" and data.json()["searches"] == 10


def test_last_24_hours_in_json_count_the_raw_clicks(client, staff_token):
    towel = search_event("towel", shown=["TWL-1", "TWL-2"])
    click(towel, "TWL-2", 2)
    search_event("towel")
    data = client.get(SUMMARY, {"period": "24h"}, **staff_token).json()
    assert (data["searches"], data["clicks"], data["mean_click_position"]) == (2, 1, 2.0)
    assert data["series_unit"] == "hour" and data["period"]["live"] is True
    rows = client.get(QUERIES, {"period": "24h"}, **staff_token).json()["queries"]
    assert rows[0]["query"] == "towel" and rows[0]["click_through_rate"] == 0.5


def test_session_login_works_too(client, busy_week):
    client.force_login(User.objects.create_user("ops", is_staff=True))
    assert client.get(SUMMARY).status_code == 200


@pytest.mark.parametrize(
    ("url", "params", "param"),
    [
        (SUMMARY, {"period": "1y"}, "period"),
        (SUMMARY, {"period": "custom", "from": "2025-13-01"}, "from"),
        (SUMMARY, {"from": "2025-03-05", "to": "2025-03-01"}, "from"),
        (QUERIES, {"order": "popular"}, "order"),
        (QUERIES, {"limit": "0"}, "limit"),
        (QUERIES, {"limit": "x" * 5000}, "limit"),
        (QUERIES, {"to": "9999-01-01", "from": "2025-01-01"}, "to"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(client, staff_token, url, params, param):
    response = client.get(url, params, **staff_token)
    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_anonymous_and_non_staff_callers_are_refused(client, busy_week):
    for url in (SUMMARY, QUERIES):
        assert client.get(url).status_code in (401, 403)
    shopper = User.objects.create_user("shopper")
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=shopper).key}"}
    for url in (SUMMARY, QUERIES):
        response = client.get(url, **auth)
        assert response.status_code == 403 and "towel" not in response.content.decode()


def test_endpoints_are_documented_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    queries = schema["paths"]["/api/v1/insights/queries"]["get"]
    assert {p["name"] for p in queries["parameters"]} >= {"period", "from", "to", "order", "limit"}
    assert "200" in queries["responses"] and "400" in queries["responses"]
    summary = schema["paths"]["/api/v1/insights/summary"]["get"]
    ref = summary["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert {"lost_events", "click_through_rate", "p95_ms", "series"} <= set(fields)
