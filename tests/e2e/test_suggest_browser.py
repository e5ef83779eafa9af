"""Search-as-you-type and typo correction in a real browser: the suggestion list under the
search box (search/static/search/suggest.js), driven by keyboard and mouse, and the
"Showing results for" banner with its "search instead" link."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from catalog import services as catalog
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical

BOX = "input[name=q] >> nth=0"  # the home page's big search box


@pytest.fixture
def shoes(transactional_db):
    cache.clear()
    ids = []
    for sku, name, category in [
        ("SNK-1", "Trail running sneakers", "Footwear/Sneakers"),
        ("BOT-1", "Leather ankle boots", "Footwear/Boots"),
        ("BLZ-1", "Wool blazer", "Clothing/Jackets"),
    ]:
        product, _ = catalog.upsert_product(sku=sku, name=name, category=category, price="59")
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()
    yield
    cache.clear()


def _options(page):
    return page.locator("[role=listbox] [role=option]")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prefix", ["snea", "snek"])
def test_typing_shows_the_sneakers_and_the_keyboard_opens_them(shoes, live_server, page, prefix):
    page.goto(f"{live_server.url}/")
    box = page.locator(BOX)
    box.click()
    box.press_sequentially(prefix, delay=30)
    sneakers = page.get_by_role("option", name=re.compile("Trail running sneakers"))
    sneakers.wait_for()
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "true"
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    assert listbox.get_attribute("role") == "listbox"
    assert page.get_by_role("group", name="Products").is_visible()

    ids = [_options(page).nth(i).get_attribute("id") for i in range(_options(page).count())]
    for _ in range(ids.index(sneakers.get_attribute("id")) + 1):
        box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == sneakers.get_attribute("id")
    assert sneakers.get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url(re.compile(r"/products/SNK-1/$"))


@pytest.mark.django_db(transaction=True)
def test_escape_closes_the_list_and_enter_then_searches_the_typed_text(shoes, live_server, page):
    page.goto(f"{live_server.url}/")
    box = page.locator(BOX)
    box.click()
    box.press_sequentially("boot", delay=30)
    page.get_by_role("option", name=re.compile("Leather ankle boots")).wait_for()
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    assert not page.locator(".suggest-popup").first.is_visible()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=boot"))


@pytest.mark.django_db(transaction=True)
def test_a_click_on_a_category_opens_the_search_filtered_by_it(shoes, live_server, page):
    page.goto(f"{live_server.url}/")
    box = page.locator(BOX)
    box.click()
    box.press_sequentially("sneak", delay=30)
    page.get_by_role("group", name="Categories").get_by_role("option").first.click()
    page.wait_for_url(re.compile(r"category=footwear(/|%2F)sneakers"))


@pytest.mark.django_db(transaction=True)
def test_a_misspelt_search_shows_the_correction_and_can_search_as_typed(shoes, live_server, page):
    page.goto(f"{live_server.url}/search?q=snekers&mode=lexical")
    banner = page.locator("p.corrected")
    assert re.search(r"Showing results for\s+sneakers", banner.inner_text())
    assert page.locator("article.result").first.get_attribute("data-sku") == "SNK-1"
    banner.get_by_role("link", name="snekers").click()
    page.wait_for_url(re.compile(r"correct=false"))
    assert page.locator("p.corrected").count() == 0
    assert "sneakers" in page.locator("p.did-you-mean").inner_text()


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_search_box_is_a_plain_form(shoes, live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    box = page.locator(BOX)
    assert box.get_attribute("role") is None
    box.fill("sneakers")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=sneakers"))
    assert page.locator("article.result").count() >= 1
    context.close()
