"""One parser reads every search request (search.query): the storefront's query string, the
API's query string or JSON body, the CLI's options. The same bad value gets the same clear
message, naming the parameter, wherever it was sent."""

from __future__ import annotations

import html as htmllib
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.http import QueryDict

from search.query import (
    InvalidSearch,
    SearchFilters,
    SearchRequest,
    parse_search_params,
    parse_search_request,
)


def query_dict(**params) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in params.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def test_an_empty_request_takes_the_defaults(settings):
    search = parse_search_request(query_dict())
    assert search == SearchRequest(page_size=settings.SEARCH_PAGE_SIZE)
    assert search.is_empty and search.filters == SearchFilters() and not search.filters


def test_a_query_string_becomes_the_request_it_asks_for():
    params = parse_search_params(
        query_dict(
            q="  red\x00 mug ",
            page="2",
            page_size="5",
            rerank="false",
            mode=" lexical",
            sort="price_desc",
            category="/Home/Kitchen/",
            brand=["Acme", "", "acme", "Stride"],
            price="25-50",
            price_max="40",
            attr=["color:Red", "color:red"],
        )
    )
    assert (params.query, params.page, params.page_size, params.rerank) == ("red mug", 2, 5, False)
    assert (params.mode, params.sort, params.category) == ("lexical", "price_desc", "home/kitchen")
    # Repeated values: first spelling of each, in the order sent (the links write them back).
    assert params.brands == ("Acme", "Stride") and params.attributes == ("color:Red",)
    # A typed bound wins over the bucket's.
    assert params.price_bounds == (Decimal("25"), Decimal("40"))
    assert params.request().filters == SearchFilters(
        category="home/kitchen",
        brands=("Acme", "Stride"),
        price_min=Decimal("25"),
        price_max=Decimal("40"),
        attributes=(("color", "Red"),),
    )


def test_a_json_body_may_use_numbers_booleans_and_lists():
    search = parse_search_request(
        {"q": "mug", "page": 3, "rerank": False, "brand": ["Acme"], "price_min": 10.5}
    )
    assert (search.page, search.rerank) == (3, False)
    assert search.filters.brands == ("Acme",) and search.filters.price_min == Decimal("10.5")


def test_a_long_query_is_cut_and_says_so(settings):
    settings.SEARCH_MAX_QUERY_CHARS = 10
    search = parse_search_request({"q": "towel " * 10})
    assert search.query == "towel towe" and search.query_truncated


BAD = [
    ({"mode": "magic"}, "mode", "the search mode is one of hybrid, vector, lexical, not 'magic'"),
    ({"mode": "HYBRID"}, "mode", "the search mode is one of"),
    ({"sort": "cheapest"}, "sort", "sort by one of relevance, price_asc, price_desc"),
    ({"page": "0"}, "page", "the page number must be a whole number from 1 to 10000, not '0'"),
    ({"page": "abc"}, "page", "the page number must be a whole number"),
    ({"page": "1.5"}, "page", "the page number must be a whole number"),
    ({"page": "10001"}, "page", "the page number must be a whole number"),
    ({"page": True}, "page", "the page number must be a whole number"),
    ({"page_size": "101"}, "page_size", "the page size must be a whole number from 1 to 100"),
    ({"rerank": "maybe"}, "rerank", "rerank is true or false, not 'maybe'"),
    ({"price_min": "abc"}, "price_min", "the lowest price must be an amount like 25 or 49.99"),
    ({"price_max": "-5"}, "price_max", "the highest price must be an amount"),
    ({"price_min": "1e3"}, "price_min", "the lowest price must be an amount"),
    ({"price_max": "0.001"}, "price_max", "the highest price must be an amount"),
    ({"price": "cheap"}, "price", "a price range looks like 25-50 or 1000-"),
    ({"price": "50-25"}, "price", "the price range '50-25' ends before it starts"),
    ({"price_min": "100", "price_max": "10"}, None, "the lowest price (100) is above the highest"),
    ({"attr": "no-colon"}, "attr", "attribute filters look like name:value, not 'no-colon'"),
    ({"attr": [f"a{i}:v" for i in range(21)]}, "attr", "at most 20 of attr"),
    ({"brand": [f"brand {i}" for i in range(51)]}, "brand", "at most 50 of brand"),
    ({"brand": "b" * 201}, "brand", "a brand is at most 200 characters"),
    ({"brand": "a\x00b"}, "brand", "may not contain NUL"),
    ({"category": "c" * 1001}, "category", "the category is longer than 1000 characters"),
    ({"q": ["a", "b"]}, "q", "q takes one value"),
]


@pytest.mark.parametrize(("params", "param", "message"), BAD, ids=range(len(BAD)))
def test_bad_values_get_a_clear_message_naming_the_parameter(params, param, message):
    with pytest.raises(InvalidSearch) as caught:
        parse_search_request({"q": "towel", **params})
    assert message in str(caught.value)
    assert caught.value.param == param


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidSearch, match="object of names and values"):
        parse_search_request(["q", "towel"])


def test_code_building_a_request_directly_gets_the_same_checks():
    with pytest.raises(InvalidSearch, match="the search mode is one of"):
        SearchRequest(query="towel", mode="semantic")


# --- The same refusal through each entry point -------------------------------------------------

SAME_EVERYWHERE = [
    ("mode", "magic", "--mode"),
    ("sort", "cheapest", "--sort"),
    ("page", "0", "--page"),
    ("page_size", "0", "--page-size"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value", "option"), SAME_EVERYWHERE)
def test_the_storefront_the_api_and_the_cli_refuse_alike(client, name, value, option):
    with pytest.raises(InvalidSearch) as caught:
        parse_search_request({"q": "towel", name: value})
    message = str(caught.value)

    api = client.get("/api/v1/search", {"q": "towel", name: value})
    assert api.status_code == 400 and api.json() == {name: [message]}

    with pytest.raises(CommandError) as refused:
        call_command("search", "towel", option, value, stdout=io.StringIO())
    assert str(refused.value) == message

    if name != "page_size":  # the storefront's pages are all one size
        page = client.get("/search", {"q": "towel", name: value})
        assert page.status_code == 400
        assert f"{message[:1].upper()}{message[1:]}." in htmllib.unescape(page.content.decode())
