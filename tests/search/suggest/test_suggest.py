"""GET /api/v1/suggest: what the search box offers while a shopper types."""

from __future__ import annotations

import json
from datetime import date

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical
from search.indexing.suggestions import refresh_suggestions
from search.insights.models import HISTOGRAM_SIZE, QueryDay

URL = "/api/v1/suggest"


@pytest.fixture
def shop(db):
    ids = []
    for sku, name, brand, category in [
        ("SNK-1", "Trail running sneakers", "Stride", "Footwear/Sneakers"),
        ("SNK-2", "White leather sneakers", "Snowpeak", "Footwear/Sneakers"),
        ("BOT-1", "Leather snow boots", "Stride", "Footwear/Boots"),
        ("SCF-1", "Snood scarf", "Knitwell", "Accessories/Scarves"),
        ("TEE-1", "Cotton T-shirt", "Basics", "Clothing/Tops"),
    ]:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, brand=brand, category=category, price="49.90"
        )
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()
    return ids


def searched(query: str, *, visitors: int, searches: int = 10, zero: int = 0) -> None:
    QueryDay.objects.create(
        day=date.today(),
        normalised_query=query,
        searches=searches,
        zero_result_searches=zero,
        visitors=visitors,
        latency_histogram=[0] * HISTOGRAM_SIZE,
    )


def get(client, **params):
    return client.get(URL, params)


def test_snea_and_snek_both_suggest_sneakers(client, shop):
    for prefix in ("snea", "snek"):
        body = get(client, q=prefix).json()
        names = [p["name"] for p in body["products"]]
        assert "Trail running sneakers" in names and "White leather sneakers" in names, prefix
        assert {"path": "footwear/sneakers", "label": "Footwear / Sneakers"} in body[
            "categories"
        ], prefix


def test_a_product_suggestion_says_where_its_page_is_and_what_it_costs(client, shop):
    body = get(client, q="trail run").json()
    assert body["products"][0]["sku"] == "SNK-1"
    assert body["products"][0]["url"] == "/products/SNK-1/"
    assert body["products"][0]["price"] == "49.90"


def test_popular_queries_complete_the_prefix_most_visitors_first(client, shop):
    searched("snow boots", visitors=4)
    searched("sneakers white", visitors=9)
    searched("sneakers for my aunt's dog", visitors=1, searches=30)  # one shopper, often
    searched("sneakers nobody sells", visitors=12, zero=10)  # never found anything
    refresh_suggestions()
    queries = get(client, q="sn").json()["queries"]
    assert queries.index("sneakers white") < queries.index("snow boots")
    assert "sneakers for my aunt's dog" not in queries
    assert "sneakers nobody sells" not in queries


def test_brands_are_suggested_among_the_queries(client, shop):
    assert "Snowpeak" in get(client, q="snowp").json()["queries"]


def test_the_category_narrows_products_and_categories(client, shop):
    body = get(client, q="sno", category="footwear").json()
    # snow boots, and Snowpeak's sneakers; not the snood scarf of another category
    assert sorted(p["sku"] for p in body["products"]) == ["BOT-1", "SNK-2"]
    assert all(c["path"].startswith("footwear") for c in body["categories"])
    assert "SCF-1" in [p["sku"] for p in get(client, q="sno").json()["products"]]


def test_limit_caps_each_list(client, shop):
    body = get(client, q="s", limit=1).json()
    assert len(body["products"]) <= 1 and len(body["queries"]) <= 1


def test_an_empty_prefix_suggests_nothing(client, shop):
    for prefix in ("", "   ", "-"):
        assert get(client, q=prefix).json() == {"queries": [], "products": [], "categories": []}


@pytest.mark.parametrize(
    "params, param",
    [
        ({"q": "s" * 10_000}, "q"),
        ({"q": "snea\x00"}, "q"),
        ({"q": "snea\x1b[2J"}, "q"),
        ({"q": "snea", "limit": "0"}, "limit"),
        ({"q": "snea", "limit": "21"}, "limit"),
        ({"q": "snea", "limit": "eight"}, "limit"),
        ({"q": "snea", "category": "x" * 2000}, "category"),
    ],
)
def test_hostile_input_is_a_clear_400(client, shop, params, param):
    response = get(client, **params)
    assert response.status_code == 400
    assert param in response.json()


def test_anonymous_callers_are_throttled(client, shop, settings):
    from rest_framework.settings import api_settings

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "suggest": "2/min"}
    from search.api.suggest import SuggestThrottle

    SuggestThrottle.THROTTLE_RATES = rates
    try:
        codes = [get(client, q=f"sn{i}").status_code for i in range(3)]
    finally:
        SuggestThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [200, 200, 429]


def test_a_two_letter_word_after_a_longer_one_begins_a_word_of_the_suggestion(client, shop):
    def skus(prefix: str) -> list[str]:
        return sorted(p["sku"] for p in get(client, q=prefix).json()["products"])

    assert skus("leather bo") == ["BOT-1"]
    assert skus("leather sn") == ["BOT-1", "SNK-2"]  # snow boots; sneakers
    assert skus("leather wh") == ["SNK-2"]  # "White leather sneakers": words in any order
    assert skus("leather co") == []  # the cotton T-shirt is not leather


def test_a_prefix_of_short_words_suggests_what_begins_with_it_shortest_first(client, shop):
    for sku, name in [("TRL-1", "Trail running sneakers for long distances"), ("TRL-2", "Tr")]:
        catalog.upsert_product(sku=sku, name=name, brand="Stride", price="9.90")
    refresh_suggestions()
    names = [p["name"] for p in get(client, q="tr").json()["products"]]
    assert names == ["Tr", "Trail running sneakers", "Trail running sneakers for long distances"]


def test_the_answer_has_the_documented_shape(client, shop):
    from search.api.suggest import SuggestionsSerializer
    from search.suggest.selectors import check_prefix, suggest

    for prefix in ("sn", "snea", "trail run", "snek"):
        found = suggest(prefix=check_prefix(prefix), limit=8, category="")
        assert found.products or found.categories, prefix
        documented = SuggestionsSerializer(found.as_data()).data
        assert get(client, q=prefix).json() == json.loads(json.dumps(documented)), prefix
