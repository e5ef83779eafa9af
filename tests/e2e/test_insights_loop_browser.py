"""The whole loop of search insights in a real browser: a shopper searches, clicks a result
and searches for something the shop does not sell; once beat's next drain and rollup have run
(called here as beat calls them), staff see both queries on the "Search insights" page (the
live 24 hours and the daily rollups), in the JSON endpoints and in the CSV export."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.models import User

from catalog import services as catalog
from search.indexing.lexical import refresh_lexical
from search.insights.draining import drain_search_events
from search.insights.models import ResultEvent
from search.insights.rollups import roll_up_recent
from tests.support.browser import log_in


@pytest.fixture
def shop_with_staff(transactional_db):
    ids = []
    for sku, name in [("TWL-1", "Plush bath towel"), ("TWL-2", "Quick-dry bath towel"),
                      ("MUG-1", "Stoneware coffee mug")]:  # fmt: skip
        product, _ = catalog.upsert_product(sku=sku, name=name, price="9.90")
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    User.objects.create_user("ops", password="pw-ops-1", is_staff=True)


def _beat_until_a_click_is_in(timeout: float = 10.0) -> None:
    """What beat does every few seconds (drain) and every minute (rollups), until the
    shopper's beacon has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain_search_events()
        if ResultEvent.objects.exists():
            break
        time.sleep(0.2)
    roll_up_recent()


def _query_row(page, query: str):
    return page.locator(".insights-table tr", has=page.get_by_role("link", name=query)).first


@pytest.mark.django_db(transaction=True)
def test_a_shoppers_searches_and_click_reach_the_insights_page_json_and_csv(
    shop_with_staff, live_server, page, artifacts
):
    page.goto(f"{live_server.url}/search?q=bath+towel&mode=lexical")
    page.locator("article.result").first.locator("a.card-title").click()
    page.wait_for_url(re.compile(r"/products/TWL-\d/$"))
    page.goto(f"{live_server.url}/search?q=unicorn+saddle&mode=lexical")
    _beat_until_a_click_is_in()

    log_in(
        page,
        f"{live_server.url}/admin/login/?next=/admin/search/insightsday/%3Fperiod%3D24h",
        username="ops",
        password="pw-ops-1",
    )
    page.wait_for_url(re.compile(r"period=24h"))
    cards = page.locator(".insights-cards").inner_text()
    assert "2\nsearches" in cards and "1\nmean click position" in cards.replace(".0", "")
    towel = _query_row(page, "bath towel").inner_text()
    assert "\t100.0%\t" in towel  # its one search got a click
    zero = page.locator("#zero-result-queries")
    assert zero.get_by_role("link", name="unicorn saddle").count() == 1
    assert page.locator("#top-products").get_by_text(re.compile(r"TWL-\d")).count() == 1
    page.screenshot(path=str(artifacts / "insights-after-a-shopper.png"), full_page=True)

    page.get_by_role("link", name="7 days").click()  # the daily rollups say the same
    page.wait_for_url(re.compile(r"period=7d"))
    assert "\t100.0%\t" in _query_row(page, "bath towel").inner_text()
    assert page.locator("#zero-result-queries").get_by_role("link", name="unicorn saddle").count()

    queries = page.request.get(f"{live_server.url}/api/v1/insights/queries?period=24h").json()
    rows = {row["query"]: row for row in queries["queries"]}
    assert rows["bath towel"]["searches"] == 1 and rows["bath towel"]["clicks"] == 1
    assert rows["unicorn saddle"]["zero_result_searches"] == 1
    summary = page.request.get(f"{live_server.url}/api/v1/insights/summary?period=7d").json()
    assert summary["searches"] == 2 and summary["zero_result_searches"] == 1

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    csv_text = open(download.value.path(), encoding="utf-8").read()
    assert "bath towel," in csv_text and "unicorn saddle," in csv_text
