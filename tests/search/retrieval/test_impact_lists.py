"""The keyword leg reads each query word's best products from its impact list (a ranked
index kept beside the keyword documents): the shopper must get what scoring every matching
product would give, the lists must follow every product change, and a catalog whose lists
are missing must still find its products."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from catalog.models import Product
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical
from search.models import LexicalImpact
from search.query import SearchFilters
from search.retrieval.lexical import lexical_candidates


@pytest.fixture
def shop(db):
    rows = [(f"TS-{i:02d}", f"Black cotton t-shirt {i}", "Plain") for i in range(25)]
    rows += [(f"BS-{i:02d}", f"Black leather shoes {i}", "Stride") for i in range(15)]
    rows += [
        ("RS-1", "Red running shoes", "Stride"),
        ("NP-1", "Nail polish, cherry red", "Gloss"),
        ("NP-2", "Nail polish remover", "Gloss"),
        ("BT-1", "Blue towel", "Dunehome"),
    ]
    ids = [catalog.upsert_product(sku=s, name=n, brand=b)[0].id for s, n, b in rows]
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()
    return ids


def ranked(query: str, limit: int = 10) -> list[str]:
    return [c.facet_row.sku for c in lexical_candidates(query=query, limit=limit)]


@pytest.mark.parametrize(
    "query", ["black shoes", "red nail polish", "shoes", "stride", "black cotton t-shirt 7"]
)
def test_the_lists_rank_as_scoring_every_matching_product(shop, settings, query):
    settings.SEARCH_LEXICAL_IMPACT_LISTS = False
    every_match = ranked(query)
    settings.SEARCH_LEXICAL_IMPACT_LISTS = True
    assert ranked(query) == every_match
    assert every_match


def test_a_renamed_product_is_found_by_its_new_name_and_not_its_old(shop):
    product = Product.objects.get(sku="BT-1")
    catalog.upsert_product(sku="BT-1", name="Green bath mat", brand="Dunehome")
    refresh_lexical(product_ids=[product.id])
    assert "BT-1" in ranked("bath mat")
    assert "BT-1" not in ranked("towel")
    words = set(
        LexicalImpact.objects.filter(document_id=product.id).values_list("lexeme", flat=True)
    )
    assert {"green", "bath", "mat"} <= words and "towel" not in words


def test_a_deleted_product_leaves_no_list_entries(shop):
    product = Product.objects.get(sku="NP-2")
    product.delete()
    assert not LexicalImpact.objects.filter(document_id=product.pk).exists()
    assert ranked("remover") == []


def test_a_catalog_without_lists_still_finds_its_products(shop, settings):
    settings.SEARCH_LEXICAL_IMPACT_LISTS = True
    LexicalImpact.objects.all().delete()  # e.g. documents written before the lists existed
    assert set(ranked("nail polish")[:2]) == {"NP-1", "NP-2"}


def test_plain_queries_are_answered_from_the_lists_and_filtered_ones_are_not(shop, settings):
    """What the comparison above relies on: the lists are what is read (a product missing
    from them is missing from a plain query's results), while a filtered query scores every
    matching product."""
    settings.SEARCH_LEXICAL_IMPACT_LISTS = True
    nail_polish = Product.objects.get(sku="NP-1")
    LexicalImpact.objects.filter(document_id=nail_polish.id).delete()
    assert "NP-1" not in ranked("nail polish") and "NP-2" in ranked("nail polish")
    found = lexical_candidates(
        query="nail polish", limit=5, filters=SearchFilters(brands=("gloss",))
    )
    assert {c.facet_row.sku for c in found} == {"NP-1", "NP-2"}


def test_an_inactive_product_is_not_found_through_the_lists(shop, settings):
    settings.SEARCH_LEXICAL_IMPACT_LISTS = True
    Product.objects.filter(sku="RS-1").update(active=False)
    assert "RS-1" not in ranked("red running shoes")
    assert ranked("red running shoes")  # the other shoes still are
