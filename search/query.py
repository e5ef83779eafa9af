"""A search request, parsed and checked in one place for every caller.

The storefront's query string, the API's query string or JSON body, and the CLI's options all
go through `parse_search_params` (or `parse_search_request`): the same bad value gets the same
`InvalidSearch`, whose message is meant for the shopper or API client and names the
parameter (`param`) when one is to blame. What comes out is plain data: `SearchParams` (the
parameters as sent, which the storefront's links write back) and `SearchRequest` (what
`search.services.search_products` answers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from PIL import Image

MODES = ("hybrid", "vector", "lexical")
SORTS = ("relevance", "price_asc", "price_desc")

# Bounds on what a request may ask for. Each is far above what a shopper sends and low enough
# that a bot's request stays cheap to parse, rank and cache.
MAX_PAGE = 10_000  # beyond any shopper's paging; page * page_size stays a small slice
MAX_RAW_QUERY_CHARS = 100_000  # read at all (what is searched is cut to SEARCH_MAX_QUERY_CHARS)
MAX_CATEGORY_CHARS = 1000  # a category path, however deep
MAX_BRANDS = 50  # brands one search may filter by
MAX_BRAND_CHARS = 200
MAX_ATTRIBUTES = 20  # "name:value" attribute filters one search may have
MAX_ATTRIBUTE_CHARS = 300

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")
# Prices as shops write them: up to 10 whole digits and cents (the catalog's column).
_AMOUNT = r"\d{1,10}(?:\.\d{1,2})?"
_PRICE = re.compile(rf"^{_AMOUNT}$")
_BUCKET = re.compile(rf"^({_AMOUNT})-({_AMOUNT})?$")
_WHOLE_NUMBER = re.compile(r"^\d{1,20}(?:\.0*)?$")  # "2" or "2.0", as HTML forms may send
_CENT = Decimal("0.01")
_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


class InvalidSearch(ValueError):
    """The request cannot be answered as asked (a bad parameter, a photo for a text-only
    model). The message is meant for the shopper or API client; `param` names the parameter
    to blame, when one is."""

    def __init__(self, message: str, *, param: str | None = None):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class SearchFilters:
    """What the shopper narrowed the search to. Empty = everything active."""

    category: str | None = None  # a Category.path ("home/bath"); includes its descendants
    brands: tuple[str, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # (name, value) pairs, all must match

    def __bool__(self) -> bool:
        return bool(
            self.category
            or self.brands
            or self.price_min is not None
            or self.price_max is not None
            or self.attributes
        )


@dataclass(frozen=True)
class SearchRequest:
    """One search, ready to answer. Built by `parse_search_request` from what a caller sent
    (or directly, by code that already holds checked values)."""

    query: str = ""  # normalised (`normalise_query`)
    photo: Image.Image | None = None  # already checked and decoded (catalog.images.open_photo)
    page: int = 1
    page_size: int = 20
    rerank: bool = True
    mode: str = "hybrid"  # one of MODES; a photo-only query is always "vector"
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: str = "relevance"  # one of SORTS
    query_truncated: bool = False  # the shopper's text was longer than is searched
    # Say why each result of the page ranked where it did (search.explain). Staff only: the
    # views check who asks; the ranking is the same either way.
    explain: bool = False
    # Search a close correction of misspelt words instead (search.retrieval.spelling); off
    # when the shopper chose "search instead for" the words as typed.
    correct: bool = True

    def __post_init__(self) -> None:
        _check_mode(self.mode)
        _check_sort(self.sort)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: no words and no photo."""
        return not self.query and self.photo is None


@dataclass(frozen=True)
class SearchParams:
    """A search's parameters as the caller sent them, checked and tidied: the storefront's
    links write them back (`search.storefront.page`), so a link changes one and keeps the rest.
    `request()` resolves them into the SearchRequest they ask for."""

    query: str = ""
    query_truncated: bool = False
    page: int = 1
    page_size: int = 20
    rerank: bool = True
    mode: str = "hybrid"
    sort: str = "relevance"
    category: str = ""  # a category path; it and its subcategories
    brands: tuple[str, ...] = ()  # first spelling of each, in the order sent
    price: str = ""  # a price facet bucket ("25-50", "1000-")
    price_min: Decimal | None = None  # typed bounds; each wins over the bucket's
    price_max: Decimal | None = None
    attributes: tuple[str, ...] = ()  # "name:value"
    explain: bool = False  # staff only (the views check)
    correct: bool = True  # false: search the words exactly as typed (no typo correction)

    @property
    def price_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        low, high = price_bucket_bounds(self.price) if self.price else (None, None)
        return (
            low if self.price_min is None else self.price_min,
            high if self.price_max is None else self.price_max,
        )

    def filters(self) -> SearchFilters:
        low, high = self.price_bounds
        pairs = []
        for item in self.attributes:
            name, _, value = item.partition(":")
            pairs.append((name.strip()[:100], value.strip()[:200]))
        return SearchFilters(
            category=self.category or None,
            brands=tuple(sorted(set(self.brands))),
            price_min=low,
            price_max=high,
            attributes=tuple(sorted(pairs)),
        )

    def request(self, *, photo: Image.Image | None = None) -> SearchRequest:
        return SearchRequest(
            query=self.query,
            photo=photo,
            page=self.page,
            page_size=self.page_size,
            rerank=self.rerank,
            mode=self.mode,
            filters=self.filters(),
            sort=self.sort,
            query_truncated=self.query_truncated,
            explain=self.explain,
            correct=self.correct,
        )


def normalise_query(raw: str) -> tuple[str, bool]:
    """Strip control characters (NUL included) and runs of whitespace; cap the length so a
    pasted essay costs no more than a sentence. Returns (query, was_truncated)."""
    text = _WHITESPACE.sub(" ", _CONTROL_CHARS.sub(" ", raw or "")).strip()
    limit = settings.SEARCH_MAX_QUERY_CHARS
    if len(text) > limit:
        return text[:limit].rstrip(), True
    return text, False


def parse_search_request(
    params: Any, *, photo: Image.Image | None = None, page_size: int | None = None
) -> SearchRequest:
    """The SearchRequest that these parameters ask for (see `parse_search_params`)."""
    return parse_search_params(params, page_size=page_size).request(photo=photo)


def parse_search_params(params: Any, *, page_size: int | None = None) -> SearchParams:
    """Read and check a search's parameters: `q`, `page`, `page_size`, `rerank`, `mode`,
    `sort`, `category`, `brand` (repeatable), `price` (a price-facet bucket such as "25-50"),
    `price_min`, `price_max`, `attr` (repeatable "name:value"), `explain` (staff's "why
    this rank": who may ask is the views' to check) and `correct` (false: no typo
    correction). Unknown names are ignored.

    `params`: a QueryDict (query strings, multipart bodies) or a plain mapping (a JSON body,
    the CLI's options) whose values may be strings, numbers, booleans or lists.
    `page_size`: fixed by the caller (the storefront's pages are all one size), or None to read
    the parameter (default settings.SEARCH_PAGE_SIZE). An empty query is not an error here:
    what an empty search means is the caller's to say. Raises InvalidSearch."""
    if not hasattr(params, "getlist") and not isinstance(params, Mapping):
        raise InvalidSearch("send the search parameters as an object of names and values")
    raw_query = _text(params, "q")
    if len(raw_query) > MAX_RAW_QUERY_CHARS:
        raise InvalidSearch(f"the query is longer than {MAX_RAW_QUERY_CHARS} characters", param="q")
    query, truncated = normalise_query(raw_query)
    if page_size is None:
        page_size = _whole_number(
            params,
            "page_size",
            default=settings.SEARCH_PAGE_SIZE,
            highest=settings.SEARCH_MAX_PAGE_SIZE,
            what="the page size",
        )
    category = _plain(_text(params, "category"), "category", "the category")
    if len(category) > MAX_CATEGORY_CHARS:
        raise InvalidSearch(
            f"the category is longer than {MAX_CATEGORY_CHARS} characters", param="category"
        )
    attributes = _repeated(params, "attr", MAX_ATTRIBUTES, MAX_ATTRIBUTE_CHARS, "attribute filter")
    for item in attributes:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise InvalidSearch(
                f"attribute filters look like name:value, not {item[:50]!r}", param="attr"
            )
    result = SearchParams(
        query=query,
        query_truncated=truncated,
        page=_whole_number(params, "page", default=1, highest=MAX_PAGE, what="the page number"),
        page_size=page_size,
        rerank=_flag(params, "rerank", default=True),
        mode=_check_mode(_text(params, "mode").strip() or "hybrid"),
        sort=_check_sort(_text(params, "sort").strip() or "relevance"),
        category=category.strip().strip("/").lower(),
        brands=_repeated(params, "brand", MAX_BRANDS, MAX_BRAND_CHARS, "brand"),
        price=_plain(_text(params, "price"), "price", "the price range").strip(),
        price_min=parse_amount(_text(params, "price_min"), "price_min", "the lowest price"),
        price_max=parse_amount(_text(params, "price_max"), "price_max", "the highest price"),
        attributes=attributes,
        explain=_flag(params, "explain", default=False),
        correct=_flag(params, "correct", default=True),
    )
    low, high = result.price_bounds  # checks the bucket too
    if low is not None and high is not None and low > high:
        raise InvalidSearch(
            f"the lowest price ({format_amount(low)}) is above the highest ({format_amount(high)})"
        )
    return result


def parse_amount(raw: str, param: str, what: str) -> Decimal | None:
    """A price typed by the shopper ("25", "49.99"); None when left empty."""
    raw = raw.strip()
    if not raw:
        return None
    if not _PRICE.match(raw):
        raise InvalidSearch(
            f"{what} must be an amount like 25 or 49.99, not {raw[:20]!r}", param=param
        )
    return Decimal(raw)


def price_bucket_bounds(value: str) -> tuple[Decimal, Decimal | None]:
    """A price facet bucket as inclusive bounds: "25-50" is 25 to 49.99, "1000-" 1000 and up."""
    match = _BUCKET.match(value)
    if not match:
        raise InvalidSearch(
            f"a price range looks like 25-50 or 1000-, not {value[:20]!r}", param="price"
        )
    low = Decimal(match.group(1))
    high = Decimal(match.group(2)) - _CENT if match.group(2) else None
    if high is not None and high < low:
        raise InvalidSearch(f"the price range {value!r} ends before it starts", param="price")
    return low, high


def format_amount(value: Decimal) -> str:
    """25 -> "25", 49.9 -> "49.90": how a price reads in a link, a chip or a message."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


# --- Reading one parameter -------------------------------------------------------------------


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InvalidSearch(
            f"the search mode is one of {', '.join(MODES)}, not {mode[:20]!r}", param="mode"
        )
    return mode


def _check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise InvalidSearch(f"sort by one of {', '.join(SORTS)}, not {sort[:20]!r}", param="sort")
    return sort


def _one(params: Any, name: str) -> object:
    if hasattr(params, "getlist"):  # a QueryDict: its last value, as Django's forms read it
        return params.get(name)
    value = params.get(name)
    if isinstance(value, list | tuple):
        raise InvalidSearch(f"{name} takes one value, not a list", param=name)
    return value


def _text(params: Any, name: str) -> str:
    value = _one(params, name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidSearch(f"{name} must be text", param=name)
    return str(value)


def _plain(value: str, param: str, what: str) -> str:
    """PostgreSQL text cannot hold NUL: a value with one could never match anything."""
    if "\x00" in value:
        raise InvalidSearch(f"{what} may not contain NUL characters", param=param)
    return value


def _whole_number(params: Any, name: str, *, default: int, highest: int, what: str) -> int:
    value = _one(params, name)
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str | float) and _WHOLE_NUMBER.match(str(value).strip()):
        number = int(str(value).strip().split(".")[0])
    else:
        number = 0
    if not 1 <= number <= highest:
        raise InvalidSearch(
            f"{what} must be a whole number from 1 to {highest}, not {str(value)[:20]!r}",
            param=name,
        )
    return number


def _flag(params: Any, name: str, *, default: bool) -> bool:
    value = _one(params, name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidSearch(f"{name} is true or false, not {str(value)[:20]!r}", param=name)


def _repeated(params: Any, name: str, most: int, longest: int, what: str) -> tuple[str, ...]:
    """A repeatable parameter's non-empty values, the first spelling of each kept
    (case-insensitively), in the order sent."""
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        value = params.get(name)
        if value is None:
            values = []
        else:
            values = list(value) if isinstance(value, list | tuple) else [value]
    seen: dict[str, str] = {}
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise InvalidSearch(f"each {name} must be text", param=name)
        text = _plain(str(value), name, f"a {what}").strip()
        if len(text) > longest:
            raise InvalidSearch(f"a {what} is at most {longest} characters", param=name)
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    if len(seen) > most:
        raise InvalidSearch(f"a search takes at most {most} of {name}", param=name)
    return tuple(seen.values())
