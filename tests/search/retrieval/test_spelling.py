"""Typo correction: a word no product holds is searched as the catalog's word it meant, and
the search says so; known words, brands, SKUs and numbers are left as typed."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical
from search.query import SearchRequest, parse_search_request
from search.retrieval.spelling import correct_query, slip_cost
from search.services import search_products

PRODUCTS = [
    ("SNK-1", "Trail running sneakers", "Stride", "Footwear/Sneakers"),
    ("SNK-2", "White leather sneakers", "Stride", "Footwear/Sneakers"),
    ("SNK-3", "Canvas high-top sneakers", "Zephyrine", "Footwear/Sneakers"),
    ("TEE-1", "Organic cotton T-shirt", "Basics", "Clothing/Tops"),
    ("TEE-2", "Striped T-shirt", "Basics", "Clothing/Tops"),
    ("BLZ-1", "Wool blazer", "Tailor", "Clothing/Jackets"),
    ("WST-1", "Tweed waistcoat", "Tailor", "Clothing/Jackets"),
    ("SNEKRS-88", "Snekkar rain jacket", "Nordvik", "Clothing/Jackets"),
]


@pytest.fixture
def fashion(db):
    ids = []
    for sku, name, brand, category in PRODUCTS:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, brand=brand, category=category, price="40"
        )
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()
    return ids


def lexical(query: str, **params) -> object:
    request = parse_search_request({"q": query, "mode": "lexical", "rerank": "false", **params})
    return search_products(request)


def test_a_misspelt_word_is_searched_as_the_catalogs_word_and_the_search_says_so(fashion):
    response = lexical("snekers")
    assert response.query == "snekers"
    assert response.corrected_query == "sneakers"
    assert {hit.sku for hit in response.results[:3]} == {"SNK-1", "SNK-2", "SNK-3"}
    assert any("sneakers" in notice and "snekers" in notice for notice in response.notices)


def test_search_instead_searches_the_words_as_typed(fashion):
    corrected = lexical("white snekers")
    as_typed = lexical("white snekers", correct="false")
    assert corrected.corrected_query == "white sneakers"
    assert as_typed.corrected_query is None
    assert as_typed.query == "white snekers"
    assert not any("snekers" in notice for notice in as_typed.notices)
    # the words as typed were searched: the correction is only offered
    assert as_typed.suggestion == "white sneakers"


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("sneakres", "sneakers"),  # two letters swapped
        ("sneakerss", "sneakers"),  # a letter doubled
        ("blazr", "blazer"),  # a letter dropped
        ("blaxer", "blazer"),  # a neighbouring key
        ("waistcaot", "waistcoat"),
    ],
)
def test_one_slip_is_corrected(fashion, typed, meant):
    correction = correct_query(typed)
    assert correction is not None and correction.confident
    assert correction.query == meant


def test_a_joined_word_is_split_as_the_catalog_writes_it(fashion):
    correction = correct_query("tshirt")
    assert correction is not None and correction.query == "t-shirt"
    response = lexical("tshirt")
    assert {hit.sku for hit in response.results[:2]} == {"TEE-1", "TEE-2"}


def test_a_split_word_finds_what_the_catalog_writes_joined(fashion):
    response = lexical("t shirt")
    assert {hit.sku for hit in response.results[:2]} == {"TEE-1", "TEE-2"}


@pytest.mark.parametrize(
    "query",
    [
        "snekrs-88",  # a SKU
        "SNEKRS",  # a SKU's letters (two slips from "sneakers")
        "zephyrine",  # a brand the catalog has
        "snekkar",  # a word that matches a product (one slip from "sneakers")
        "sneakers 42",  # a number
        "sneaker",  # another form of a known word
    ],
)
def test_known_words_brands_skus_and_numbers_are_never_corrected(fashion, query):
    assert correct_query(query) is None
    assert lexical(query).corrected_query is None


def test_a_word_too_far_from_any_is_suggested_not_searched(fashion):
    response = lexical("snkaers")  # two slips in a short word
    assert response.corrected_query is None
    assert response.suggestion == "sneakers"


def test_the_other_words_of_the_query_choose_between_equally_close_words(db):
    ids = []
    for sku, name in [
        ("B1", "Baby shower gift basket"),
        ("P1", "Power drill"),
        ("P2", "Power bank"),
        ("P3", "Power strip"),
    ]:
        ids.append(catalog.upsert_product(sku=sku, name=name, price="10")[0].id)
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()
    assert correct_query("hower").query == "power"  # alone: the commoner word
    assert correct_query("baby hower").query == "baby shower"  # with "baby": the shower


def test_neighbouring_keys_swaps_and_doubles_cost_less_than_other_slips():
    assert slip_cost("sbeakers", "sneakers") < slip_cost("sqeakers", "sneakers")
    assert slip_cost("snaekers", "sneakers") < slip_cost("snqkers", "sneakers")
    assert slip_cost("sneakkers", "sneakers") < slip_cost("sneakiers", "sneakers")
    assert slip_cost("sneakers", "sneakers") == 0


def test_an_empty_request_or_one_without_letters_is_not_corrected(fashion):
    assert correct_query("") is None
    assert correct_query("42 100") is None
    assert search_products(SearchRequest(query="12345", mode="lexical")).corrected_query is None


def test_the_api_answers_what_it_searched_and_searches_as_typed_when_asked(fashion, client):
    body = client.get("/api/v1/search", {"q": "snekers", "mode": "lexical"}).json()
    assert (body["query"], body["corrected_query"]) == ("snekers", "sneakers")
    assert any("sneakers" in notice for notice in body["notices"])
    as_typed = client.get("/api/v1/search", {"q": "snekers", "mode": "lexical", "correct": "0"})
    assert as_typed.json()["corrected_query"] is None
    assert as_typed.json()["suggestion"] == "sneakers"
