"""The admin's "Search insights" page and its CSV export, as staff see them."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User

from tests.support.insights import query_day, today

pytestmark = pytest.mark.django_db

PAGE = "/admin/search/insightsday/"
CSV = "/admin/search/insightsday/queries.csv"


@pytest.fixture
def staff_client(client):
    # A staff user with no model permissions at all: insights are for every staff user.
    client.force_login(User.objects.create_user("ops", is_staff=True))
    return client


def test_staff_see_queries_zero_result_list_and_lost_events(staff_client, busy_week):
    response = staff_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Search insights" in html
    assert 'href="/search?q=towel"' in html
    assert 'href="/search?q=unicorn%20saddle"' in html
    assert "(photo queries)" in html
    zero_list = html.split('id="zero-result-queries"')[1].split('id="unclicked-queries"')[0]
    assert "unicorn saddle" in zero_list and "towel" not in zero_list
    unclicked = html.split('id="unclicked-queries"')[1].split('id="slowest-queries"')[0]
    assert "blue mug" in unclicked
    assert "<strong>4</strong> lost events" in html
    assert "<strong>72</strong> searches" in html
    assert "<svg" in html and "<title>" in html


def test_the_page_has_no_inline_styles_for_a_strict_content_security_policy(
    staff_client, busy_week
):
    html = staff_client.get(PAGE).content.decode()
    assert " style=" not in html and "<style" not in html
    assert "search/insights.css" in html


def test_period_and_order_change_what_is_shown(staff_client, busy_week):
    query_day(today(), "old favourite", searches=1)
    html = staff_client.get(PAGE, {"period": "24h"}).content.decode()
    assert "Last 24 hours" in html and "No searches in this period" in html
    assert "old favourite" in staff_client.get(PAGE, {"period": "30d"}).content.decode()
    by_zero = staff_client.get(PAGE, {"order": "zero"}).content.decode()
    table = by_zero.split("<h2>Queries</h2>")[1]
    assert table.index("unicorn saddle") < table.index("towel")


def test_bad_period_is_a_400_that_says_what_to_fix(staff_client):
    response = staff_client.get(PAGE, {"period": "custom", "from": "2025-02-30"})
    assert response.status_code == 400
    assert "from:" in response.content.decode() and "YYYY-MM-DD" in response.content.decode()


def test_the_admin_index_links_to_the_page(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert f'href="{PAGE}"' in html and "Search insights" in html


def test_shoppers_and_non_staff_are_sent_to_log_in(client, busy_week):
    for url in (PAGE, CSV):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(User.objects.create_user("shopper"))
    response = client.get(PAGE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "towel" not in client.get(CSV).content.decode()


def _csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_export_has_a_header_and_the_table_in_its_order(staff_client, busy_week):
    rows = _csv_rows(staff_client.get(CSV, {"period": "7d", "order": "count"}))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["query", "photo", "searches"]
    assert "click_through_rate" in header and "p95_ms" in header
    assert [(r[0], r[2]) for r in body] == [
        ("towel", "40"),
        ("blue mug", "12"),
        ("unicorn saddle", "8"),
        ("(photo queries)", "7"),
        ("lamp", "5"),
    ]
    towel = dict(zip(header, body[0], strict=True))
    assert towel["click_through_rate"] == "0.5000" and towel["mean_click_position"] == "2.20"
    by_zero = _csv_rows(staff_client.get(CSV, {"order": "zero"}))
    assert by_zero[1][0] == "unicorn saddle"


def test_csv_escapes_queries_a_spreadsheet_would_run_as_formulas(staff_client):
    for query in ('=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)", "plain"):
        query_day(today(), query, searches=1)
    body = _csv_rows(staff_client.get(CSV))[1:]
    assert sorted(r[0] for r in body) == sorted(
        ['\'=HYPERLINK("http://evil")', "'+1", "'-2+3", "'@SUM(A1)", "plain"]
    )


def test_csv_with_a_bad_parameter_is_a_400(staff_client):
    response = staff_client.get(CSV, {"order": "best"})
    assert response.status_code == 400 and response.content.decode().startswith("order:")
