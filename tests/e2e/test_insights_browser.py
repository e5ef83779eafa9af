"""Staff in a real browser: the "Search insights" page found from the admin index, its chart,
cards and tables, a period switch and the CSV export; a screenshot under test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from tests.support.browser import log_in
from tests.support.insights import write_busy_week


@pytest.fixture
def week_with_staff(transactional_db):
    write_busy_week()
    User.objects.create_user("ops", password="pw-ops-1", is_staff=True)


@pytest.mark.django_db(transaction=True)
def test_staff_find_the_insights_page_and_export_its_queries(
    week_with_staff, live_server, page, artifacts
):
    log_in(
        page, f"{live_server.url}/admin/login/?next=/admin/", username="ops", password="pw-ops-1"
    )
    page.wait_for_url(re.compile(r"/admin/$"))
    page.screenshot(path=str(artifacts / "admin-index-insights.png"))
    page.get_by_role("link", name="Search insights").first.click()
    page.wait_for_url(re.compile(r"/admin/search/insightsday/"))

    cards = page.locator(".insights-cards").inner_text()
    assert "72" in cards and "4\nlost events" in cards
    assert page.locator("svg.insights-chart .insights-bar").count() == 5  # 5 days had searches
    assert page.locator("#zero-result-queries").get_by_role("link", name="unicorn saddle").count()
    page.screenshot(path=str(artifacts / "admin-search-insights.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("query,photo,searches") and lines[1].startswith("towel,no,40")

    page.get_by_role("link", name="Last 24 hours").click()
    page.wait_for_url(re.compile(r"period=24h"))
    assert "No searches in this period" in page.locator("svg.insights-chart").inner_html()
