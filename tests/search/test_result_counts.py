"""Result counts a shopper can trust (search.retrieval.counting): `count` is the products that
match the query's words or its meaning closely enough, the pages hold exactly those, the
facets count them, and weaker matches come after them as "You might also like".

Real catalogs embedded with the packaged all-MiniLM model, the keyword statistics counted as
the sweeper counts them in a running shop."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from PIL import Image

from catalog.services import upsert_product
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical
from search.query import SearchFilters, SearchRequest, price_bucket_bounds
from search.services import ALSO_LIKE, search_products


def skus(hits) -> list[str]:
    return [hit.sku for hit in hits]


def every_page(query: str, *, page_size: int, **options) -> list:
    """All pages of a search, page 1 first, up to the last one the response names."""
    first = search_products(SearchRequest(query=query, page_size=page_size, **options))
    pages = [first]
    for page in range(2, first.num_pages + 1):
        pages.append(
            search_products(SearchRequest(query=query, page=page, page_size=page_size, **options))
        )
    return pages


@pytest.fixture
def catalog(indexed_catalog):
    refresh_lexeme_stats()
    return indexed_catalog


@pytest.fixture
def store(shop):
    refresh_lexeme_stats()
    return shop


def test_a_mug_query_counts_the_mugs_not_every_product(catalog):
    response = search_products(SearchRequest(query="mug"))
    assert response.count == 2 < len(catalog)
    assert set(skus(response.results)) == {"MUG-1", "MUG-2"}
    # The rest of the catalog is not lost: the best of it follows, outside the count.
    assert response.also_like and not {"MUG-1", "MUG-2"} & set(skus(response.also_like))


def test_sharing_one_common_word_does_not_count(store):
    # The red mug shares only "red" with "red running shoes": it is no result for it.
    response = search_products(SearchRequest(query="red running shoes"))
    assert skus(response.results)[0] == "SNK-100"
    assert "MUG-050" not in skus(response.results)
    assert response.count < len(store)


def test_words_count_when_most_of_them_and_the_telling_ones_match(db):
    # "blue" is the rarer word here, yet a blue t-shirt is no result for "blue towel"; a
    # long query's product may miss one word. Keyword mode: the words alone decide.
    rows = [("T-1", "Grey bath towel"), ("T-2", "White bath towel"), ("T-3", "Sand beach towel"),
            ("T-4", "Blue bath towel"), ("S-1", "Blue cotton t-shirt")]  # fmt: skip
    refresh_lexical(product_ids=[upsert_product(sku=sku, name=name)[0].id for sku, name in rows])
    refresh_lexeme_stats()

    blue_towel = search_products(SearchRequest(query="blue towel", mode="lexical"))
    assert skus(blue_towel.results) == ["T-4"]
    assert {"S-1", "T-1"} <= set(skus(blue_towel.also_like))
    long = search_products(SearchRequest(query="soft white cotton bath towel", mode="lexical"))
    assert "T-2" in skus(long.results)  # all but "soft"
    assert "S-1" not in skus(long.results)  # "cotton" alone


def test_a_misspelt_word_still_counts_its_near_misses(store):
    response = search_products(SearchRequest(query="sneakrs", mode="lexical"))
    assert set(skus(response.results)) == {"SNK-100", "SNK-200"}


@pytest.mark.parametrize(
    "query", ["towel", "shoes", "something to dry off after a shower", "Dunehome", "red"]
)
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_pages_hold_min_of_page_size_and_count(store, query, page_size):
    pages = every_page(query, page_size=page_size)
    count = pages[0].count
    seen = []
    for number, page in enumerate(pages, start=1):
        assert page.count == count
        assert len(page.results) == min(page_size, count - (number - 1) * page_size)
        seen += skus(page.results)
        # Weaker matches only where the counted results end, never among them.
        assert bool(page.also_like) == (number == len(pages) and count < len(store))
        assert not set(skus(page.also_like)) & set(skus(page.results))
    assert len(seen) == len(set(seen)) == count


def test_an_exact_sku_or_brand_counts(store):
    for mode in ("hybrid", "lexical"):
        response = search_products(SearchRequest(query="SAW-900", mode=mode))
        assert skus(response.results)[0] == "SAW-900", mode
    brand = search_products(SearchRequest(query="Dunehome", page_size=10))
    assert {"TWL-010", "TWL-020", "MUG-050"} <= set(skus(brand.results))


def test_a_photo_query_counts_by_meaning_alone(photo_catalog):
    photo = Image.new("RGB", (48, 48), "red")
    response = search_products(SearchRequest(photo=photo, page_size=10))
    assert skus(response.results)[0] == "RED-1"
    # A photo less like it than the average product never reaches the floor (half way from
    # the average up to the best hit).
    assert 1 <= response.count < len(photo_catalog)
    whole = search_products(SearchRequest(photo=photo, page_size=10), whole_ranking=True)
    assert whole.count == len(photo_catalog)
    # Counted first, the rest after them: both in the ranking's own order.
    assert skus(response.results) + skus(response.also_like) == skus(whole.results)


def test_facets_count_the_counted_products(store):
    for query in ("towel", "red running shoes", "gift for a coffee lover"):
        response = search_products(SearchRequest(query=query))
        for facet in response.facets:  # every product has a category, a brand and a price
            assert sum(v.count for v in facet.values) == response.count, (query, facet.name)


def test_choosing_a_facet_value_shows_as_many_results_as_it_said(store):
    # The meaning floor is the whole catalog's: a filter only removes counted products, so
    # "Sneakers (1)" leads to one result, not to more that a narrower floor let in.
    for query in ("shoes", "gift", "summer", "something for home"):
        response = search_products(SearchRequest(query=query))
        for facet in response.facets:
            for value in facet.values:
                if facet.name == "category":
                    chosen = SearchFilters(category=value.value)
                elif facet.name == "brand":
                    chosen = SearchFilters(brands=(value.value,))
                else:  # as the storefront's bucket link reads it
                    low, high = price_bucket_bounds(value.value)
                    chosen = SearchFilters(price_min=low, price_max=high)
                narrowed = search_products(SearchRequest(query=query, filters=chosen))
                assert narrowed.count == value.count, (query, facet.name, value.value)


def test_the_whole_ranking_is_the_counted_list_with_the_rest_left_in(store):
    counted = search_products(SearchRequest(query="towel", page_size=50))
    whole = search_products(SearchRequest(query="towel", page_size=50), whole_ranking=True)
    assert whole.count == len(store) > counted.count
    inside = set(skus(counted.results))
    assert [s for s in skus(whole.results) if s in inside] == skus(counted.results)
    assert whole.also_like == []


def test_storefront_shows_weaker_matches_after_the_counted_ones(catalog, client, settings):
    html = client.get("/search", {"q": "mug"}).content.decode()
    assert '2 results for "mug"' in html
    results, _, after = html.partition("You might also like")
    assert set(re.findall(r'data-sku="([^"]+)"', results)) == {"MUG-1", "MUG-2"}
    also = re.findall(r'data-sku="([^"]+)"', after)
    assert 0 < len(also) <= ALSO_LIKE and not {"MUG-1", "MUG-2"} & set(also)

    settings.SEARCH_PAGE_SIZE = 1  # two pages of one mug: the weaker ones follow page 2 only
    assert "You might also like" not in client.get("/search", {"q": "mug"}).content.decode()
    assert "You might also like" in client.get("/search", {"q": "mug", "page": 2}).content.decode()


def test_api_keeps_weaker_matches_in_their_own_field(catalog, client):
    body = client.get("/api/v1/search", {"q": "mug"}).json()
    assert body["count"] == len(body["results"]) == 2
    assert body["also_like"] and not {h["sku"] for h in body["also_like"]} & {"MUG-1", "MUG-2"}
    first = client.get("/api/v1/search", {"q": "mug", "page_size": 1}).json()
    second = client.get("/api/v1/search", {"q": "mug", "page_size": 1, "page": 2}).json()
    assert (first["num_pages"], first["also_like"]) == (2, [])
    assert second["also_like"] == body["also_like"]


def test_evaluate_search_measures_the_counted_list_on_request(catalog, tmp_path):
    # A lamp judged relevant to "mug" (a complement, say): the whole ranking reaches it, the
    # counted list (what the shopper pages through) does not.
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tmug\n")
    qrels = tmp_path / "r.tsv"
    qrels.write_text("q1\tMUG-1\t3\nq1\tLMP-1\t1\n")
    args = ["--queries", str(queries), "--qrels", str(qrels), "--mode", "hybrid", "--json"]

    def recall(*extra: str) -> float:
        out = io.StringIO()
        call_command("evaluate_search", *args, *extra, stdout=out, stderr=io.StringIO())
        return json.loads(out.getvalue().splitlines()[-1])["hybrid"]["recall@50"]

    assert recall() == 1.0
    assert recall("--counted") == 0.5
    table = io.StringIO()
    call_command("evaluate_search", *args[:-1], "--counted", stdout=table, stderr=io.StringIO())
    assert "the counted results (what a shopper sees)" in table.getvalue()
