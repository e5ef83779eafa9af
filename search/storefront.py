"""The storefront's refinement of a results page: parsing the filter, sort and mode
parameters of /search into a SearchRequest, and building the facet sidebar, filter chips,
"did you mean" and empty-state links, each the page's own query string with one thing changed.
Presentation only: ranking and facet counts come from search.services."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from catalog.selectors import top_categories
from search.services import (
    MODES,
    SORTS,
    InvalidSearch,
    SearchFilters,
    SearchRequest,
    SearchResponse,
    build_filters,
)
from search.templatetags.search_tags import query_string

PHOTO_EXPIRED = "That photo search has expired — upload the photo again."

SORT_LABELS = {
    "relevance": "Relevance",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
}
MAX_REPEATED = 50  # brands or attribute values one page may filter by
_AMOUNT = r"\d{1,9}(?:\.\d{1,2})?"
_PRICE = re.compile(rf"^{_AMOUNT}$")
_BUCKET = re.compile(rf"^({_AMOUNT})-({_AMOUNT})?$")
_CENT = Decimal("0.01")


def _amount(value: Decimal) -> str:
    """25 -> "25", 49.9 -> "49.90": how a price reads in a link or a chip."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def _price(raw: str, what: str) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    if not _PRICE.match(raw):
        raise InvalidSearch(f"{what} must be an amount like 25 or 49.99, not {raw[:20]!r}")
    return Decimal(raw)


def _bucket_bounds(value: str) -> tuple[Decimal, Decimal | None]:
    """A price facet bucket as inclusive bounds: "25-50" is 25 to 49.99, "1000-" 1000 and up."""
    match = _BUCKET.match(value)
    if not match:
        raise InvalidSearch(f"a price range looks like 25-50 or 1000-, not {value[:20]!r}")
    low = Decimal(match.group(1))
    high = Decimal(match.group(2)) - _CENT if match.group(2) else None
    if high is not None and high < low:
        raise InvalidSearch(f"the price range {value!r} ends before it starts")
    return low, high


def _unique(values: list[str]) -> tuple[str, ...]:
    """Non-empty values, first spelling of each kept (case-insensitively), at most a few dozen."""
    seen: dict[str, str] = {}
    for value in (v.strip() for v in values):
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return tuple(seen.values())[:MAX_REPEATED]


@dataclass(frozen=True)
class Refinement:
    """How the shopper narrowed and ordered a results page, as read from its query string;
    `params()` writes it back, so links can change one thing and keep the rest."""

    category: str = ""  # a category path; it and its subcategories
    brands: tuple[str, ...] = ()
    price: str = ""  # a price facet bucket ("25-50", "1000-")
    price_min: Decimal | None = None  # typed bounds; each wins over the bucket's
    price_max: Decimal | None = None
    attributes: tuple[str, ...] = ()  # "name:value"
    sort: str = "relevance"
    mode: str = "hybrid"

    @classmethod
    def from_query(cls, params) -> Refinement:
        """Raises InvalidSearch, with a message for the shopper, for values we cannot use."""
        sort = params.get("sort", "").strip() or "relevance"
        if sort not in SORTS:
            raise InvalidSearch(f"sort by one of {', '.join(SORTS)}, not {sort[:20]!r}")
        mode = params.get("mode", "").strip() or "hybrid"
        if mode not in MODES:
            raise InvalidSearch(f"the search mode is one of {', '.join(MODES)}, not {mode[:20]!r}")
        refinement = cls(
            category=params.get("category", "").strip().strip("/").lower()[:1000],
            brands=_unique(params.getlist("brand")),
            price=params.get("price", "").strip(),
            price_min=_price(params.get("price_min", ""), "the lowest price"),
            price_max=_price(params.get("price_max", ""), "the highest price"),
            attributes=_unique(params.getlist("attr")),
            sort=sort,
            mode=mode,
        )
        low, high = refinement.price_bounds  # checks the bucket too
        if low is not None and high is not None and low > high:
            raise InvalidSearch(
                f"the lowest price ({_amount(low)}) is above the highest ({_amount(high)})"
            )
        return refinement

    @property
    def price_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        low, high = _bucket_bounds(self.price) if self.price else (None, None)
        return (
            low if self.price_min is None else self.price_min,
            high if self.price_max is None else self.price_max,
        )

    def filters(self) -> SearchFilters:
        low, high = self.price_bounds
        return build_filters(
            category=self.category,
            brands=self.brands,
            price_min=low,
            price_max=high,
            attributes=self.attributes,
        )

    def params(self) -> list[tuple[str, str]]:
        pairs = [("category", self.category)] if self.category else []
        pairs += [("brand", brand) for brand in self.brands]
        if self.price:
            pairs.append(("price", self.price))
        for name, value in (("price_min", self.price_min), ("price_max", self.price_max)):
            if value is not None:
                pairs.append((name, _amount(value)))
        pairs += [("attr", attr) for attr in self.attributes]
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.mode != "hybrid":
            pairs.append(("mode", self.mode))
        return pairs

    def without_price(self) -> Refinement:
        return replace(self, price="", price_min=None, price_max=None)

    def without_filters(self) -> Refinement:
        return Refinement(sort=self.sort, mode=self.mode)


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
        return f"{_amount(low)} – {_amount(high)}"
    return f"{_amount(low)} and up" if low is not None else f"up to {_amount(high)}"


def _bucket_label(value: str) -> str:
    """A bucket as a shopper reads it: "0-25" Under 25, "25-50" 25 – 50, "1000-" 1000 and up."""
    low, _, high = value.partition("-")
    if not high:
        return f"{low} and up"
    return f"Under {high}" if Decimal(low) == 0 else f"{low} – {high}"


def _option(value: str, label: str, count: int | None, checked: bool) -> dict:
    """One checkbox or radio of the sidebar (count None: chosen, not among the results)."""
    return {"value": value, "label": label, "count": count, "checked": checked}


def _facet(response: SearchResponse, name: str):
    return next((f for f in response.facets if f.name == name), None)


def refine_context(
    search: SearchRequest,
    response: SearchResponse,
    refinement: Refinement,
    base: list[tuple[str, str]],
) -> dict:
    """The sidebar (facets as form inputs and links), the active-filter chips, the sort
    options and the links of a results page, each a URL of this page with one change."""

    def url(changed: Refinement) -> str:
        return query_string(base + changed.params())

    filters = search.filters
    category_facet = _facet(response, "category")
    category_values = category_facet.values if category_facet else []
    categories = []
    for v in category_values:
        option = _option(v.value, v.label, v.count, v.value == filters.category)
        if filters.category and v.value.startswith(filters.category + "/"):
            # Below the chosen category: named from there ("Towels" under "Home / Bath").
            option["label"] = " / ".join(v.label.split(" / ")[filters.category.count("/") + 1 :])
            option["sub"] = True
        categories.append(option)
    if filters.category and not any(c["checked"] for c in categories):
        label = _category_label(filters.category, category_values)
        categories.insert(0, _option(filters.category, label, None, True))

    # Counted with the brand filter lifted (search_products): the other brands stay listed.
    brand_facet = _facet(response, "brand")
    brands = [
        _option(v.value, v.label, v.count, v.selected)
        for v in (brand_facet.values if brand_facet else [])
    ]
    shown = {b["value"].lower() for b in brands}
    brands += [_option(b, b, None, True) for b in refinement.brands if b.lower() not in shown]

    bounds = refinement.price_bounds
    price_facet = _facet(response, "price")
    prices = [
        {
            "label": _bucket_label(v.value),
            "count": v.count,
            "selected": _bucket_bounds(v.value) == bounds,
            "url": url(replace(refinement.without_price(), price=v.value)),
        }
        for v in (price_facet.values if price_facet else [])
    ]

    chips = []
    if filters.category:
        label = next((c["label"] for c in categories if c["checked"]), filters.category)
        chips.append(("Category", label, replace(refinement, category="")))
    for brand in refinement.brands:
        others = tuple(b for b in refinement.brands if b != brand)
        chips.append(("Brand", brand, replace(refinement, brands=others)))
    if bounds != (None, None):
        typed = refinement.price_min is not None or refinement.price_max is not None
        label = _range_label(*bounds) if typed else _bucket_label(refinement.price)
        chips.append(("Price", label, refinement.without_price()))
    for attr in refinement.attributes:
        name, _, value = attr.partition(":")
        others = tuple(a for a in refinement.attributes if a != attr)
        rest = replace(refinement, attributes=others)
        chips.append((name.strip().capitalize(), value.strip(), rest))

    context = {
        "refinement": refinement,
        # Nothing to refine when nothing was found and nothing is chosen.
        "show_facets": bool(response.results or chips or response.page > 1),
        "search_params": base + refinement.params(),
        "facet_categories": categories,
        "facet_brands": brands,
        "facet_prices": prices,
        "any_price_url": url(refinement.without_price()) if bounds != (None, None) else "",
        "price_min_value": _amount(bounds[0]) if bounds[0] is not None else "",
        "price_max_value": _amount(bounds[1]) if bounds[1] is not None else "",
        "chips": [
            {"name": name, "value": value, "remove_url": url(rest)} for name, value, rest in chips
        ],
        "clear_filters_url": url(refinement.without_filters()) if chips else "",
        "sort_options": [
            {"value": value, "label": SORT_LABELS[value], "selected": value == refinement.sort}
            for value in SORTS
        ],
        "suggestion_url": "",
        "top_categories": [],
    }
    if response.suggestion:
        corrected = base[:-1] + [("q", response.suggestion)]
        context["suggestion_url"] = query_string(corrected + refinement.params())
    if not response.results and response.page == 1 and not chips:
        photo = base[:-1]
        context["top_categories"] = [
            {"label": c.name, "url": query_string(photo + [("q", c.name), ("category", c.path)])}
            for c in top_categories()
        ]
    return context
