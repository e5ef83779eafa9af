"""Keeping the suggestions fresh (search.indexing.suggestions): the rebuild beat runs brings
the table to what the catalog and the shoppers' queries say, rewriting only what changed."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from catalog import services as catalog
from catalog.models import Product
from search.indexing.lexical import refresh_lexical
from search.indexing.suggestions import refresh_suggestions
from search.insights.models import HISTOGRAM_SIZE, QueryDay
from search.models import Suggestion


@pytest.fixture
def shop(db):
    ids = []
    for sku, name, brand, category in [
        ("SNK-1", "Trail running sneakers", "Stride", "Footwear/Sneakers"),
        ("BOT-1", "Leather snow boots", "Snowpeak", "Footwear/Boots"),
    ]:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, brand=brand, category=category, price="49.90"
        )
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    return ids


def rows() -> dict[tuple, tuple]:
    """Each suggestion by what it is: (kind, text, path) -> (row id, label, weight)."""
    return {(s.kind, s.text, s.path): (s.id, s.label, s.weight) for s in Suggestion.objects.all()}


def row_versions() -> dict[int, str]:
    """Each row's id -> the transaction that wrote it (PostgreSQL's xmin)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM search_suggestion")
        return dict(cursor.fetchall())


def searched(query: str, *, visitors: int) -> None:
    QueryDay.objects.create(
        day=date.today(),
        normalised_query=query,
        searches=10,
        zero_result_searches=0,
        visitors=visitors,
        latency_histogram=[0] * HISTOGRAM_SIZE,
    )


def suggested(client, prefix: str) -> dict:
    cache.clear()
    return client.get("/api/v1/suggest", {"q": prefix}).json()


def test_a_rebuild_with_nothing_changed_rewrites_no_suggestion(shop):
    refresh_suggestions()
    before = row_versions()
    assert refresh_suggestions() == len(before)
    assert row_versions() == before


def test_a_rebuild_follows_the_catalog_and_the_queries(client, shop):
    searched("snow boots", visitors=5)
    refresh_suggestions()
    kept = rows()[("brand", "stride", "")]
    assert suggested(client, "snow")["queries"][:1] == ["snow boots"]

    # the boots leave the shop, the sneakers get a new name, the query goes out of fashion
    Product.objects.filter(sku="BOT-1").update(active=False)
    Product.objects.filter(sku="SNK-1").update(name="Trail runners")
    QueryDay.objects.all().delete()
    refresh_suggestions()

    after = rows()
    assert ("brand", "snowpeak", "") not in after and ("query", "snow boots", "") not in after
    assert ("category", "boots", "footwear/boots") not in after
    assert after[("brand", "stride", "")] == kept  # unchanged, the same row
    body = suggested(client, "snow")
    assert body == {"queries": [], "products": [], "categories": []}
    assert [p["name"] for p in suggested(client, "trail")["products"]] == ["Trail runners"]


def test_a_category_weighs_what_it_holds_after_a_rebuild(shop):
    product, _ = catalog.upsert_product(
        sku="SNK-2", name="White sneakers", brand="Stride", category="Footwear/Sneakers"
    )
    refresh_lexical(product_ids=[product.id])
    refresh_suggestions()
    assert rows()[("category", "sneakers", "footwear/sneakers")][2] == 2
    assert rows()[("brand", "stride", "")][2] == 2
    Product.objects.filter(sku="SNK-2").update(active=False)
    refresh_suggestions()
    assert rows()[("category", "sneakers", "footwear/sneakers")][2] == 1
    assert rows()[("brand", "stride", "")][2] == 1


def test_a_product_changed_through_the_indexing_path_is_suggested_as_it_is_now(client, shop):
    product = Product.objects.get(sku="SNK-1")
    Product.objects.filter(pk=product.pk).update(name="Road running shoes")
    refresh_lexical(product_ids=[product.id])
    assert [p["sku"] for p in suggested(client, "road")["products"]] == ["SNK-1"]
    assert suggested(client, "trail")["products"] == []
    Product.objects.filter(pk=product.pk).update(active=False)
    refresh_lexical(product_ids=[product.id])
    assert suggested(client, "road")["products"] == []
