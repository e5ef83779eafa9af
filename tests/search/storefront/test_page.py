"""The results page built straight from what was searched and what the search answered, no
HTTP and no model: pagination, the sidebar's links, the chips, "did you mean" and notices.
Every link is the page's own query string with one thing changed."""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string

from search.query import SearchParams
from search.storefront.page import link_params, results_context, without_filters
from search.types import Facet, FacetValue, SearchHit, SearchResponse


def hit(sku: str) -> SearchHit:
    return SearchHit(
        product_id=1,
        sku=sku,
        name=f"Product {sku}",
        price=Decimal("12.50"),
        currency="USD",
        url=f"/products/{sku}/",
        image=None,
        score=0.9,
        retrieval_score=0.9,
    )


def answer(*, count: int = 5, page: int = 1, facets=(), suggestion=None, notices=()):
    return SearchResponse(
        query="mug",
        results=[hit("A"), hit("B")] if count else [],
        count=count,
        page=page,
        page_size=2,
        timings_ms={"encode": 1.0, "retrieve": 2.0, "rerank": 0.0, "total": 3.0},
        model={"embedder": "tiny/embedder", "modalities": ["text"], "reranker": None},
        facets=list(facets),
        suggestion=suggestion,
        notices=list(notices),
    )


BRANDS = Facet(
    "brand", "Brand", [FacetValue("Acme", "Acme", 3, True), FacetValue("Kerf", "Kerf", 2)]
)
PRICES = Facet("price", "Price", [FacetValue("0-25", "0–25", 4), FacetValue("25-50", "25–50", 1)])
CATEGORIES = Facet(
    "category",
    "Category",
    [FacetValue("home/bath/towels", "Home / Bath / Towels", 2), FacetValue("tools", "Tools", 1)],
)


def test_pages_and_the_links_that_page_them_keep_filters_and_sort():
    params = SearchParams(query="mug", brands=("Acme",), sort="price_asc", mode="lexical")
    context = results_context(params=params, response=answer(count=5), photo_key="")
    assert list(context["pages"]) == [1, 2, 3]
    assert context["search_params"] == [
        ("q", "mug"),
        ("brand", "Acme"),
        ("sort", "price_asc"),
        ("mode", "lexical"),
    ]
    html = render_to_string("search/results.html", {"query": "mug", **context})
    assert 'href="?q=mug&amp;brand=Acme&amp;sort=price_asc&amp;mode=lexical&amp;page=2"' in html


def test_a_photo_search_carries_its_photo_first_in_every_link():
    key = "0123456789abcdef0123456789abcdef"
    params = SearchParams(query="red", brands=("Acme",))
    context = results_context(
        params=params, response=answer(facets=[BRANDS], suggestion="rad"), photo_key=key
    )
    assert context["search_params"][0] == ("photo", key)
    assert context["suggestion_url"] == f"?photo={key}&q=rad&brand=Acme"
    assert all(c["remove_url"].startswith(f"?photo={key}&q=red") for c in context["chips"])


def test_facet_links_change_one_thing_and_keep_the_rest():
    params = SearchParams(query="mug", brands=("Acme",), price="0-25", sort="price_desc")
    context = results_context(
        params=params, response=answer(facets=[CATEGORIES, BRANDS, PRICES]), photo_key=""
    )
    cheap, middle = context["facet_prices"]
    assert cheap["selected"] and not middle["selected"]
    assert middle["url"] == "?q=mug&brand=Acme&price=25-50&sort=price_desc"
    assert context["any_price_url"] == "?q=mug&brand=Acme&sort=price_desc"
    assert (context["price_min_value"], context["price_max_value"]) == ("0", "24.99")
    assert [(b["value"], b["count"], b["checked"]) for b in context["facet_brands"]] == [
        ("Acme", 3, True),
        ("Kerf", 2, False),
    ]
    assert [s["value"] for s in context["sort_options"] if s["selected"]] == ["price_desc"]


def test_chips_name_each_filter_and_remove_only_it():
    params = SearchParams(
        query="mug",
        category="home/bath",
        brands=("Acme", "Kerf"),
        price_min=Decimal("10"),
        attributes=("color:red",),
    )
    context = results_context(params=params, response=answer(facets=[CATEGORIES]), photo_key="")
    chips = {(c["name"], c["value"]): c["remove_url"] for c in context["chips"]}
    assert chips == {
        ("Category", "Home / Bath"): "?q=mug&brand=Acme&brand=Kerf&price_min=10&attr=color%3Ared",
        ("Brand", "Acme"): "?q=mug&category=home/bath&brand=Kerf&price_min=10&attr=color%3Ared",
        ("Brand", "Kerf"): "?q=mug&category=home/bath&brand=Acme&price_min=10&attr=color%3Ared",
        ("Price", "10 and up"): "?q=mug&category=home/bath&brand=Acme&brand=Kerf&attr=color%3Ared",
        ("Color", "red"): "?q=mug&category=home/bath&brand=Acme&brand=Kerf&price_min=10",
    }
    assert context["clear_filters_url"] == "?q=mug"
    # The chosen category comes first in the sidebar, its subcategories named from there.
    first, sub = context["facet_categories"][:2]
    assert (first["value"], first["count"], first["checked"]) == ("home/bath", None, True)
    assert (sub["label"], sub.get("sub")) == ("Towels", True)


def test_the_sort_and_mode_are_not_filters():
    params = SearchParams(query="mug", brands=("Acme",), sort="price_asc", mode="vector")
    assert link_params(without_filters(params)) == [("sort", "price_asc"), ("mode", "vector")]


def test_notices_and_an_empty_page_beyond_the_end_are_shown():
    notice = "Search by meaning is unavailable right now: showing keyword matches."
    params = SearchParams(query="mug")
    context = results_context(
        params=params, response=answer(count=3, page=9, notices=[notice]), photo_key=""
    )
    context["response"].results = []
    html = render_to_string("search/results.html", {"query": "mug", **context})
    assert f'<div class="notice">{notice}</div>' in html
    assert "There are no results on page 9" in html
    assert context["show_facets"]  # a page beyond the end can still be refined
