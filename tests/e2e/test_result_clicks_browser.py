"""A shopper in a real browser clicks a search result: the product page opens at once and
the click reaches search insights (navigator.sendBeacon), with the place the search showed
the product at. Without JavaScript the same link opens the same page."""

from __future__ import annotations

import re
import time

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexical
from search.insights.draining import drain_search_events
from search.insights.models import ResultEvent, SearchEvent


@pytest.fixture
def towels(transactional_db):
    ids = []
    for sku, name in [("TWL-1", "Plush bath towel"), ("TWL-2", "Quick-dry bath towel"),
                      ("TWL-3", "Striped beach towel")]:  # fmt: skip
        product, _ = catalog.upsert_product(sku=sku, name=name, price="9.90")
        ids.append(product.id)
    refresh_lexical(product_ids=ids)


def _clicks_after_drain(timeout: float = 10.0) -> list[ResultEvent]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain_search_events()
        clicks = list(ResultEvent.objects.all())
        if clicks:
            return clicks
        time.sleep(0.2)
    return []


@pytest.mark.django_db(transaction=True)
def test_a_result_click_opens_the_product_and_is_recorded_with_its_place(towels, live_server, page):
    page.goto(f"{live_server.url}/search?q=towel&mode=lexical")
    second = page.locator("article.result").nth(1)
    sku = second.get_attribute("data-sku")
    second.locator("a.card-title").click()
    page.wait_for_url(re.compile(rf"/products/{sku}/$"))

    clicks = _clicks_after_drain()
    assert [(c.type, c.sku, c.position) for c in clicks] == [("click", sku, 2)]
    search = SearchEvent.objects.get(search_id=clicks[0].search_id)
    assert search.source == "storefront" and search.shown[1] == sku


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_result_link_still_opens_the_product(towels, live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/search?q=towel&mode=lexical")
        first = page.locator("article.result").first
        sku = first.get_attribute("data-sku")
        first.locator("a.card-title").click()
        page.wait_for_url(re.compile(rf"/products/{sku}/$"))
    finally:
        context.close()
    drain_search_events()
    assert not ResultEvent.objects.exists()  # no script, no beacon: only the search
    assert SearchEvent.objects.count() == 1
