"""A results page of the storefront, built from what was searched (`SearchParams`) and what
the search answered (`SearchResponse`): pagination, the facet sidebar, filter chips, the sort
options, "did you mean" and the empty-state links, each link the page's own query string with
one thing changed, so nothing the shopper chose is lost on the way.
Presentation only: parsing is search.query's, ranking and facet counts search.services'."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from urllib.parse import quote

from catalog.selectors import top_categories
from search.query import SORTS, SearchParams, format_amount, price_bucket_bounds
from search.types import Facet, SearchResponse

PHOTO_EXPIRED = "That photo search has expired — upload the photo again."

SORT_LABELS = {
    "relevance": "Relevance",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
}


def query_string(params: Iterable[tuple[str, str]]) -> str:
    """`?name=value&...` in the given order, values percent-encoded ("/" kept readable)."""
    return "?" + "&".join(f"{name}={quote(value, safe='/')}" for name, value in params)


def link_params(params: SearchParams) -> list[tuple[str, str]]:
    """How the page's links carry the shopper's refinements (filters, sort, mode), in the
    order the sidebar form sends them; defaults are left out."""
    pairs = [("category", params.category)] if params.category else []
    pairs += [("brand", brand) for brand in params.brands]
    if params.price:
        pairs.append(("price", params.price))
    for name, value in (("price_min", params.price_min), ("price_max", params.price_max)):
        if value is not None:
            pairs.append((name, format_amount(value)))
    pairs += [("attr", attr) for attr in params.attributes]
    if params.sort != "relevance":
        pairs.append(("sort", params.sort))
    if params.mode != "hybrid":
        pairs.append(("mode", params.mode))
    if params.explain:  # staff paging through an explained ranking keep seeing why
        pairs.append(("explain", "1"))
    return pairs


def without_price(params: SearchParams) -> SearchParams:
    return replace(params, price="", price_min=None, price_max=None)


def without_filters(params: SearchParams) -> SearchParams:
    """The same search, unfiltered (the sort and the mode are not filters)."""
    return replace(without_price(params), category="", brands=(), attributes=())


def sentence(exc: Exception) -> str:
    """An error's message as a sentence on the page."""
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


def base_params(photo_key: str, query: str) -> list[tuple[str, str]]:
    """What was searched for, first in every link: `photo=<key>&q=<text>`."""
    return ([("photo", photo_key)] if photo_key else []) + [("q", query)]


def _category_label(path: str, facet_values) -> str:
    """The name of a chosen category path ("home/bath": "Home / Bath"), as the facet names
    its subcategories."""
    depth = path.count("/") + 1
    for value in facet_values:
        if value.value.startswith(path + "/"):
            return " / ".join(value.label.split(" / ")[:depth])
    return " / ".join(part.replace("-", " ").title() for part in path.split("/"))


def _range_label(low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and high is not None:
        return f"{format_amount(low)} – {format_amount(high)}"
    return f"{format_amount(low)} and up" if low is not None else f"up to {format_amount(high)}"


def _bucket_label(value: str) -> str:
    """A bucket as a shopper reads it: "0-25" Under 25, "25-50" 25 – 50, "1000-" 1000 and up."""
    low, _, high = value.partition("-")
    if not high:
        return f"{low} and up"
    return f"Under {high}" if Decimal(low) == 0 else f"{low} – {high}"


def _option(value: str, label: str, count: int | None, checked: bool) -> dict:
    """One checkbox or radio of the sidebar (count None: chosen, not among the results)."""
    return {"value": value, "label": label, "count": count, "checked": checked}


def _facet(response: SearchResponse, name: str) -> Facet | None:
    return next((f for f in response.facets if f.name == name), None)


def results_context(*, params: SearchParams, response: SearchResponse, photo_key: str) -> dict:
    """What a results page shows beside the hits: the pages, the sidebar (facets as form
    inputs and links), the active-filter chips, the sort options, "did you mean" and the
    empty-state links, each a URL of this page with one change."""
    base = base_params(photo_key, params.query)

    def url(changed: SearchParams) -> str:
        return query_string(base + link_params(changed))

    chosen_category = params.category
    category_facet = _facet(response, "category")
    category_values = category_facet.values if category_facet else []
    categories = []
    for v in category_values:
        option = _option(v.value, v.label, v.count, v.value == chosen_category)
        if chosen_category and v.value.startswith(chosen_category + "/"):
            # Below the chosen category: named from there ("Towels" under "Home / Bath").
            option["label"] = " / ".join(v.label.split(" / ")[chosen_category.count("/") + 1 :])
            option["sub"] = True
        categories.append(option)
    if chosen_category and not any(c["checked"] for c in categories):
        label = _category_label(chosen_category, category_values)
        categories.insert(0, _option(chosen_category, label, None, True))

    # Counted with the brand filter lifted (search_products): the other brands stay listed.
    brand_facet = _facet(response, "brand")
    brands = [
        _option(v.value, v.label, v.count, v.selected)
        for v in (brand_facet.values if brand_facet else [])
    ]
    shown = {b["value"].lower() for b in brands}
    brands += [_option(b, b, None, True) for b in params.brands if b.lower() not in shown]

    bounds = params.price_bounds
    price_facet = _facet(response, "price")
    prices = [
        {
            "label": _bucket_label(v.value),
            "count": v.count,
            "selected": price_bucket_bounds(v.value) == bounds,
            "url": url(replace(without_price(params), price=v.value)),
        }
        for v in (price_facet.values if price_facet else [])
    ]

    chips = []
    if chosen_category:
        label = next((c["label"] for c in categories if c["checked"]), chosen_category)
        chips.append(("Category", label, replace(params, category="")))
    for brand in params.brands:
        others = tuple(b for b in params.brands if b != brand)
        chips.append(("Brand", brand, replace(params, brands=others)))
    if bounds != (None, None):
        typed = params.price_min is not None or params.price_max is not None
        label = _range_label(*bounds) if typed else _bucket_label(params.price)
        chips.append(("Price", label, without_price(params)))
    for attr in params.attributes:
        name, _, value = attr.partition(":")
        others = tuple(a for a in params.attributes if a != attr)
        rest = replace(params, attributes=others)
        chips.append((name.strip().capitalize(), value.strip(), rest))

    context = {
        "response": response,
        "pages": range(1, response.num_pages + 1),
        # The results' places in the whole ranking (1-based), which their links carry with
        # the search id for the click beacon (search/static/search/clicks.js).
        "first_position": (response.page - 1) * response.page_size + 1,
        "refinement": params,
        # Nothing to refine when nothing was found and nothing is chosen.
        "show_facets": bool(response.results or chips or response.page > 1),
        "search_params": base + link_params(params),
        "facet_categories": categories,
        "facet_brands": brands,
        "facet_prices": prices,
        "any_price_url": url(without_price(params)) if bounds != (None, None) else "",
        "price_min_value": format_amount(bounds[0]) if bounds[0] is not None else "",
        "price_max_value": format_amount(bounds[1]) if bounds[1] is not None else "",
        "chips": [
            {"name": name, "value": value, "remove_url": url(rest)} for name, value, rest in chips
        ],
        "clear_filters_url": url(without_filters(params)) if chips else "",
        "sort_options": [
            {"value": value, "label": SORT_LABELS[value], "selected": value == params.sort}
            for value in SORTS
        ],
        "suggestion_url": "",
        "top_categories": [],
        # Staff's "Why this ranking?" link (the template shows it to staff only): the same
        # page with explanations, or without them again.
        "explain_toggle_url": url(replace(params, explain=not params.explain)),
    }
    if response.suggestion:
        corrected = base[:-1] + [("q", response.suggestion)]
        context["suggestion_url"] = query_string(corrected + link_params(params))
    if not response.results and response.page == 1 and not chips:
        photo = base[:-1]
        context["top_categories"] = [
            {"label": c.name, "url": query_string(photo + [("q", c.name), ("category", c.path)])}
            for c in top_categories()
        ]
    return context
