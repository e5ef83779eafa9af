"""Hybrid retrieval on a small catalog written for the test, with the real MiniLM:
what shoppers type (SKUs, typos, brands) and what they mean, filters and facets."""

from __future__ import annotations

from decimal import Decimal

from django.core.cache import cache

from catalog import services as catalog
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical
from search.query import SearchFilters, SearchRequest
from search.services import search_products


def skus(query: str, **kwargs) -> list[str]:
    return [h.sku for h in search_products(SearchRequest(query=query, **kwargs)).results]


def test_exact_sku_comes_first_in_every_mode_that_reads_words(shop):
    assert skus("BOT-300")[0] == "BOT-300"
    assert skus("bot-300", mode="lexical")[0] == "BOT-300"


def test_typos_and_partial_words_still_find_the_product(shop):
    assert set(skus("sneakrs", mode="lexical")[:2]) == {"SNK-100", "SNK-200"}
    assert skus("iphone 1")[0] == "PHN-015"


def test_brand_name_ranks_its_products_first(shop):
    top = skus("dunehome")[:3]
    assert set(top) == {"TWL-010", "TWL-020", "MUG-050"}


def test_meaning_without_shared_words_needs_the_vector_leg(shop):
    query = "something to wrap around me after showering"
    assert skus(query, mode="lexical") == []
    assert skus(query)[0] in {"TWL-010", "TWL-020"}


def test_category_filter_includes_subcategories_and_combines_with_the_query(shop):
    filters = SearchFilters(category="footwear")
    found = skus("shoes for the outdoors", filters=filters, page_size=20)
    assert set(found) == {"SNK-100", "SNK-200", "BOT-300"}
    assert set(skus("towel", filters=SearchFilters(category="footwear"))) <= {
        "SNK-100", "SNK-200", "BOT-300",
    }  # fmt: skip


def test_brand_price_and_attribute_filters(shop):
    assert set(skus("shoes", filters=SearchFilters(brands=("stride",)))) == {"SNK-100", "BOT-300"}
    cheap = skus("footwear", filters=SearchFilters(price_max=Decimal("50")))
    assert cheap and all(
        s in {"SNK-200", "PHN-015", "TWL-010", "TWL-020", "MUG-050"} for s in cheap
    )
    assert set(skus("red", filters=SearchFilters(attributes=(("color", "Red"),)))) == {
        "SNK-100", "MUG-050",
    }  # fmt: skip


def test_a_selective_filter_still_fills_the_page_from_the_vector_leg(shop):
    # Only one product is a mug; the nearest neighbours of "boots" are not mugs. The vector
    # leg still reaches it under the filter; being nothing like boots, it does not count and
    # is offered as a weaker match.
    response = search_products(
        SearchRequest(query="boots", mode="vector", filters=SearchFilters(category="home/kitchen"))
    )
    assert (response.count, [h.sku for h in response.also_like]) == (0, ["MUG-050"])


def test_facets_count_the_candidates_and_mark_the_selection(shop):
    response = search_products(
        SearchRequest(query="towel", mode="lexical", filters=SearchFilters(brands=("Dunehome",)))
    )
    facets = {f.name: f for f in response.facets}
    brand = {v.value: (v.count, v.selected) for v in facets["brand"].values}
    assert brand == {"Dunehome": (2, True)}
    category = {v.value: v.count for v in facets["category"].values}
    assert category == {"home/bath/towels": 2}
    prices = {v.label: v.count for v in facets["price"].values}
    assert prices == {"0–25": 2}


def test_a_chosen_brand_still_lists_the_other_brands_with_their_counts(shop):
    # "sneakers" in words: Stride's and Plimsoll's. Choosing Stride narrows the results and
    # the other facets, but the brand list still offers Plimsoll (multi-select).
    response = search_products(
        SearchRequest(query="sneakers", mode="lexical", filters=SearchFilters(brands=("stride",)))
    )
    assert [h.sku for h in response.results] == ["SNK-100"]
    facets = {f.name: f for f in response.facets}
    brand = {v.value: (v.count, v.selected) for v in facets["brand"].values}
    assert brand == {"Stride": (1, True), "Plimsoll": (1, False)}
    assert {v.value: v.count for v in facets["category"].values} == {"footwear/sneakers": 1}
    assert [f.name for f in response.facets] == ["category", "brand", "price"]


def test_page_two_continues_page_one_without_repeats(shop):
    def page(n: int) -> list[str]:  # through the whole ranking: more pages than "gift" counts
        request = SearchRequest(query="gift", page=n, page_size=3)
        return [h.sku for h in search_products(request, whole_ranking=True).results]

    first, second, third = page(1), page(2), page(3)
    assert len(first) == 3 and not set(first) & set(second)
    assert len(set(first + second + third)) == len(first + second + third)


def test_misspelled_words_are_searched_corrected_or_as_typed_with_did_you_mean(shop):
    response = search_products(SearchRequest(query="plush towle"))
    assert (response.query, response.corrected_query) == ("plush towle", "plush towel")
    assert response.suggestion is None
    as_typed = search_products(SearchRequest(query="plush towle", correct=False))
    assert as_typed.corrected_query is None and as_typed.suggestion == "plush towel"
    assert search_products(SearchRequest(query="plush towel")).suggestion is None


def test_sort_by_price_both_ways_keeps_the_same_candidates(shop):
    relevance = search_products(SearchRequest(query="shoes", page_size=20))
    cheap_first = search_products(SearchRequest(query="shoes", page_size=20, sort="price_asc"))
    dear_first = search_products(SearchRequest(query="shoes", page_size=20, sort="price_desc"))
    prices = [h.price for h in cheap_first.results]
    assert prices == sorted(prices)
    assert [h.price for h in dear_first.results] == sorted(prices, reverse=True)
    assert {h.sku for h in cheap_first.results} == {h.sku for h in relevance.results}


def test_did_you_mean_leaves_other_forms_of_known_words_alone(shop):
    assert search_products(SearchRequest(query="running sneaker")).suggestion is None
    assert search_products(SearchRequest(query="towels for the beach")).suggestion is None


def test_rare_query_words_weigh_more_than_common_ones(db, settings):
    names = ["Steel bolt", "Steel pan", "Steel ruler", "Steel wool", "Steel mug", "Ceramic mug"]
    ids = [catalog.upsert_product(sku=f"W-{i}", name=name)[0].id for i, name in enumerate(names)]
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()

    def ranked() -> list[str]:  # the whole ranking: "steel mug" counts only the steel mug
        request = SearchRequest(query="steel mug", mode="lexical", page_size=6)
        return [h.sku for h in search_products(request, whole_ranking=True).results]

    found = ranked()
    assert found[:2] == ["W-4", "W-5"]  # both words, then the rare word beats five "steel"s

    settings.SEARCH_LEXICAL_IDF = False
    cache.clear()  # the ranking above is cached for stable pagination
    unweighted = ranked()
    assert unweighted[0] == "W-4" and unweighted.index("W-5") > 1
