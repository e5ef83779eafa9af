"""The results page's refinements through the Django test client, on a small catalog written
for the test and embedded with the real MiniLM: facets with counts, brand / category / price
filters and their chips, sort, pagination that keeps it all, "did you mean", the empty states,
and a clear 400 for parameters we cannot use."""

from __future__ import annotations

import html as htmllib
import re
from collections import Counter
from decimal import Decimal

import pytest

from tests.support.catalogs import SHOP_ROWS

PRICES = {row[0]: Decimal(row[4]) for row in SHOP_ROWS}
BRANDS = {row[0]: row[2] for row in SHOP_ROWS}
FOOTWEAR = {"SNK-100", "SNK-200", "BOT-300"}  # what "shoes" counts
TOWELS = {"TWL-010", "TWL-020"}


def page(client, **params) -> str:
    response = client.get("/search", params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def follow(client, href: str) -> str:
    """GET a link of the page as the browser would (hrefs are HTML-escaped `?...` URLs)."""
    response = client.get("/search" + htmllib.unescape(href))
    assert response.status_code == 200
    return response.content.decode()


def skus(html: str) -> list[str]:
    return re.findall(r'<article class="result card" data-sku="([^"]+)"', html)


def options(html: str, name: str) -> dict[str, tuple[int | None, bool]]:
    """The sidebar's checkboxes / radios of `name`: value -> (count, checked)."""
    found = {}
    pattern = (
        rf'<input type="(?:checkbox|radio)" name="{name}" value="([^"]*)"( checked)? '
        r'data-autosubmit>\s*<span class="facet-label">[^<]*</span>\s*'
        r'(?:<span class="facet-count">(\d+)</span>)?'
    )
    for value, checked, count in re.findall(pattern, html):
        found[htmllib.unescape(value)] = (int(count) if count else None, bool(checked))
    return found


def chips(html: str) -> list[str]:
    return [
        htmllib.unescape(re.sub(r"<[^>]+>", "", chip)).strip()
        for chip in re.findall(r'<li class="chip">(.*?)<a class="chip-remove"', html, re.S)
    ]


def chip_remove_url(html: str, text: str) -> str:
    for chip, href in re.findall(
        r'<li class="chip">(.*?)<a class="chip-remove" href="([^"]+)"', html, re.S
    ):
        if htmllib.unescape(re.sub(r"<[^>]+>", "", chip)).strip() == text:
            return href
    raise AssertionError(f"no chip {text!r} in {chips(html)}")


def link(html: str, text: str) -> str:
    """The href of the first link whose visible text contains `text`."""
    for href, inner in re.findall(r'<a[^>]* href="([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        if text in htmllib.unescape(re.sub(r"<[^>]+>", " ", inner)):
            return href
    raise AssertionError(f"no link {text!r}")


def card_prices(html: str) -> list[Decimal]:
    """The prices on the result cards (not on "You might also like" below them)."""
    results = html.partition('<section class="also-like"')[0]
    return [Decimal(p) for p in re.findall(r'<span class="price">USD ([\d.]+)</span>', results)]


def test_facets_render_with_counts(shop, client):
    # The facets count the results the page shows, nothing else (README, "Result counts").
    html = page(client, q="something for home")
    shown = skus(html)
    assert len(shown) > 1 and f"{len(shown)} results for" in html
    brands = Counter(BRANDS[sku] for sku in shown)
    assert options(html, "brand") == {brand: (n, False) for brand, n in brands.items()}
    categories = options(html, "category")
    assert categories[""] == (None, True)  # "All categories"
    towels = len(TOWELS & set(shown))
    assert towels and categories["home/bath/towels"] == (towels, False)
    assert "Home / Bath / Towels" in html
    prices = re.findall(
        r'<span class="facet-label">([^<]+)</span> <span class="facet-count">(\d+)</span></a>',
        html,
    )
    buckets = [("Under 25", 0, 25), ("25 – 50", 25, 50), ("50 – 100", 50, 100),
               ("100 – 250", 100, 250), ("250 – 500", 250, 500)]  # fmt: skip
    expected = [
        (label, n)
        for label, low, high in buckets
        if (n := sum(low <= PRICES[sku] < high for sku in shown))
    ]
    assert [(htmllib.unescape(label), int(n)) for label, n in prices] == expected
    assert 'id="refine"' in html and 'method="get"' in html
    assert 'name="price_min"' in html and 'name="price_max"' in html
    assert not chips(html)


def test_a_brand_filters_results_shows_a_chip_and_its_removal_restores(shop, client):
    html = page(client, q="shoes", brand="Stride")
    assert set(skus(html)) == {"SNK-100", "BOT-300"}
    assert chips(html) == ["Brand: Stride"]
    brands = options(html, "brand")
    # Multi-select: the other brands stay on offer, counted as if no brand were chosen.
    assert brands["Stride"] == (2, True) and brands["Plimsoll"] == (1, False)

    both = page(client, q="shoes", brand=["Stride", "Plimsoll"])
    assert set(skus(both)) == {"SNK-100", "SNK-200", "BOT-300"}
    assert chips(both) == ["Brand: Stride", "Brand: Plimsoll"]

    back = follow(client, chip_remove_url(html, "Brand: Stride"))
    assert set(skus(back)) == FOOTWEAR and not chips(back)
    assert chip_remove_url(html, "Brand: Stride") == "?q=shoes"
    one = follow(client, chip_remove_url(both, "Brand: Stride"))
    assert set(skus(one)) == {"SNK-200"} and chips(one) == ["Brand: Plimsoll"]


def test_category_filter_includes_subcategories(shop, client):
    html = page(client, q="shoes for the outdoors", category="Footwear")
    assert set(skus(html)) == {"SNK-100", "SNK-200", "BOT-300"}
    assert chips(html) == ["Category: Footwear"]
    categories = options(html, "category")
    assert categories["footwear"] == (None, True)  # the choice itself, above its subcategories
    assert categories["footwear/sneakers"] == (2, False)
    assert categories["footwear/boots"] == (1, False)
    assert categories[""] == (None, False)


def test_price_bucket_link_and_min_max_inputs(shop, client):
    html = page(client, q="shoes")
    assert set(skus(html)) == FOOTWEAR
    cheap = follow(client, link(html, "25 – 50"))
    assert set(skus(cheap)) == {"SNK-200"}
    assert chips(cheap) == ["Price: 25 – 50"]
    assert 'class="selected" aria-current="true"' in cheap
    # The typed range shows the bucket's bounds, so the form keeps the price when resubmitted.
    assert 'name="price_min" value="25"' in cheap and 'name="price_max" value="49.99"' in cheap
    assert "Any price" in cheap

    top = page(client, q="shoes", price="100-250")
    assert skus(top) == ["BOT-300"]
    assert set(skus(page(client, q="shoes", price="50-"))) == {"SNK-100", "BOT-300"}

    typed = page(client, q="shoes", price_min="40", price_max="100", price="")
    assert set(skus(typed)) == {"SNK-100", "SNK-200"}
    assert chips(typed) == ["Price: 40 – 100"]
    assert 'name="price_min" value="40"' in typed and 'name="price_max" value="100"' in typed
    assert set(skus(page(client, q="shoes", price_min="100"))) == {"BOT-300"}
    assert chips(page(client, q="shoes", price_max="20")) == ["Price: up to 20"]
    # Empty inputs (the form always sends them) are no filter at all.
    assert set(skus(page(client, q="shoes", price_min="", price_max="", category=""))) == FOOTWEAR


@pytest.mark.parametrize(("sort", "reverse"), [("price_asc", False), ("price_desc", True)])
def test_sort_by_price_orders_the_cards(shop, client, sort, reverse):
    html = page(client, q="shoes", sort=sort)
    found = skus(html)
    assert set(found) == FOOTWEAR
    assert [PRICES[s] for s in found] == sorted((PRICES[s] for s in found), reverse=reverse)
    assert card_prices(html) == [PRICES[s] for s in found]
    assert f'<option value="{sort}" selected>' in html
    # The sort select belongs to the sidebar form, so sorting keeps the filters.
    assert '<select id="sort" name="sort" form="refine" data-autosubmit>' in html


def test_pagination_links_keep_the_filters_and_the_sort(shop, client, settings):
    settings.SEARCH_PAGE_SIZE = 2
    # "or": every product of either brand matches the words (README, "Result counts").
    query = "Dunehome or Stride"
    html = page(client, q=query, brand=["Dunehome", "Stride"], price_max="200", sort="price_asc")
    assert "Page 1 of 3" in html
    first = skus(html)
    assert first == ["MUG-050", "TWL-010"]
    href = (
        "?q=Dunehome%20or%20Stride&amp;brand=Dunehome&amp;brand=Stride&amp;price_max=200"
        "&amp;sort=price_asc"
    )
    assert f'href="{href}&amp;page=2"' in html
    second = follow(client, link(html, "Next"))
    assert skus(second) == ["TWL-020", "SNK-100"]
    assert chips(second) == ["Brand: Dunehome", "Brand: Stride", "Price: up to 200"]
    third = follow(client, link(second, "Next"))
    assert skus(third) == ["BOT-300"]
    assert f'href="{href}&amp;page=1"' in third

    # A category path keeps its slashes readable; a mode other than hybrid rides along too.
    settings.SEARCH_PAGE_SIZE = 1
    html = page(client, q="towel", category="home/bath", mode="lexical")
    assert 'href="?q=towel&amp;category=home/bath&amp;mode=lexical&amp;page=2"' in html


def test_a_corrected_search_says_so_and_links_to_the_words_as_typed(shop, client):
    html = page(client, q="plush towle")
    match = re.search(
        r'<p class="corrected">Showing results for <strong>([^<]+)</strong>'
        r' <span class="as-typed">- search instead for <a href="([^"]+)">([^<]+)</a>',
        html,
    )
    assert match, html
    assert match.groups() == ("plush towel", "?q=plush%20towle&amp;correct=false", "plush towle")
    as_typed = follow(client, match.group(2).replace("&amp;", "&"))
    assert 'class="corrected"' not in as_typed


def test_did_you_mean_links_to_the_corrected_query(shop, client):
    html = page(client, q="plush towle", correct="false")
    match = re.search(r'<p class="did-you-mean">Did you mean <a href="([^"]+)">([^<]+)</a>\?', html)
    assert match, html
    assert match.group(2) == "plush towel"
    assert match.group(1) == "?q=plush%20towel"
    corrected = follow(client, match.group(1))
    assert "Did you mean" not in corrected
    assert skus(corrected)[0] == "TWL-010"
    assert 'results for "plush towel"' in corrected

    # the filters ride along; asking for the words as typed does not
    filtered = page(client, q="plush towle", brand="Dunehome", correct="false")
    assert 'Did you mean <a href="?q=plush%20towel&amp;brand=Dunehome">' in filtered


def test_empty_results_with_filters_offer_search_without_filters(shop, client):
    html = page(client, q="towel", category="home", brand="Kerfco", sort="price_desc")
    assert skus(html) == []
    assert "No results for “towel” with these filters" in html
    unfiltered = link(html, "Search without filters")
    assert unfiltered == "?q=towel&amp;sort=price_desc"  # the sort is not a filter
    assert set(skus(follow(client, unfiltered))) == TOWELS
    # Each active filter can be removed on its own.
    without_brand = follow(client, link(html, "Remove brand “Kerfco”"))
    assert set(skus(without_brand)) == TOWELS and chips(without_brand) == ["Category: Home"]
    without_category = follow(client, link(html, "Remove category “Home”"))
    assert chips(without_category) == ["Brand: Kerfco"]
    assert skus(without_category) == []  # Kerfco sells saws: no towel
    # The chosen brand stays ticked in the sidebar even with nothing to count.
    assert options(html, "brand")["Kerfco"][1] is True


def test_empty_results_without_filters_suggest_other_words_and_departments(shop, client):
    html = page(client, q="zzxqv", mode="lexical")
    assert skus(html) == []
    assert "Nothing matched “zzxqv”" in html and "Try fewer words" in html
    departments = re.findall(r'<ul class="category-links">(.*?)</ul>', html, re.S)[0]
    assert re.findall(r">([^<]+)</a>", departments) == ["Electronics", "Footwear", "Home", "Tools"]
    browse = follow(client, link(html, "Footwear"))
    assert set(skus(browse)) == {"SNK-100", "SNK-200", "BOT-300"}


def test_attribute_filter_chip(shop, client):
    html = page(client, q="red", attr="color:red")
    assert set(skus(html)) == {"SNK-100", "MUG-050"}
    assert chips(html) == ["Color: red"]
    assert '<input type="hidden" name="attr" value="color:red">' in html


def test_filter_values_are_escaped(shop, client):
    html = page(client, q="mug", brand='<b onmouseover="x">B</b>')
    assert '<b onmouseover="x">' not in html
    assert "Brand: &lt;b onmouseover=&quot;x&quot;&gt;B&lt;/b&gt;" in re.sub(r"\s+", " ", html)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"price_min": "abc"}, "The lowest price must be an amount like 25 or 49.99"),
        ({"price_max": "-5"}, "The highest price must be an amount"),
        ({"price_min": "1e3"}, "The lowest price must be an amount"),
        ({"price_min": "NaN"}, "The lowest price must be an amount"),
        ({"price_max": "9" * 40}, "The highest price must be an amount"),
        ({"price": "cheap"}, "A price range looks like 25-50 or 1000-"),
        ({"price": "50-25"}, "ends before it starts"),
        ({"price_min": "100", "price_max": "10"}, "The lowest price (100) is above the highest"),
        ({"price": "0-25", "price_min": "30"}, "The lowest price (30) is above the highest"),
        ({"sort": "cheapest"}, "Sort by one of relevance, price_asc, price_desc"),
        ({"mode": "magic"}, "The search mode is one of hybrid, vector, lexical"),
        ({"attr": "no-colon"}, "Attribute filters look like name:value"),
    ],
)
def test_bad_parameters_get_a_clear_400(shop, client, params, message):
    response = client.get("/search", {"q": "towel", **params})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="notice error"' in html
    assert message in htmllib.unescape(html)
    assert 'href="/search?q=towel"' in html and "without filters" in html


def test_bad_parameters_without_a_query_are_refused_too(shop, client):
    assert client.get("/search", {"sort": "nope"}).status_code == 400
    assert client.get("/search", {"price_min": "1", "price_max": "2"}).status_code == 200
