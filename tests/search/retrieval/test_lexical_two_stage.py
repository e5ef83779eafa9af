"""The keyword leg ranks in two stages (a bounded first stage by a cheap measure, the full
score over it): cutting the first stage must not change what comes out on top."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical
from search.retrieval.lexical import lexical_candidates


@pytest.fixture
def many_matches(db):
    rows = [(f"S-{i:02d}", f"Steel thing {i}", "Forge") for i in range(30)]
    rows += [(f"M-{i:02d}", f"Men's sock {i}", "Knit") for i in range(30)]
    rows += [
        ("W-MUG", "Steel mug", "Forge"),
        ("C-MUG", "Ceramic mug", "Potter"),
        ("SNK-1", "Trail sneakers", "Stride"),
        ("DH-1", "Bath towel", "Dunehome"),
        ("DH-2", "Hand towel", "Dunehome"),
    ]
    ids = [catalog.upsert_product(sku=s, name=n, brand=b)[0].id for s, n, b in rows]
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()


def ranked(query: str, limit: int) -> list[int]:
    return [c.product_id for c in lexical_candidates(query=query, limit=limit)]


@pytest.mark.parametrize("query", ["steel mug", "dunehome", "sneakrs for men", "S-07", "towel"])
def test_a_first_stage_smaller_than_the_matches_keeps_the_same_top(many_matches, settings, query):
    settings.SEARCH_LEXICAL_FIRST_STAGE = 10_000  # every match gets the full score
    whole = ranked(query, 3)
    settings.SEARCH_LEXICAL_FIRST_STAGE = 1  # the first stage keeps only `limit` rows a branch
    assert ranked(query, 3) == whole
    assert whole


def test_exact_brand_and_typo_matches_survive_a_cut_first_stage(many_matches, settings):
    settings.SEARCH_LEXICAL_FIRST_STAGE = 1
    found = lexical_candidates(query="dunehome", limit=2)
    assert all(c.exact for c in found) and len(found) == 2
    assert [c.facet_row.sku for c in lexical_candidates(query="sneakrs", limit=1)] == ["SNK-1"]


@pytest.fixture
def common_word_shop(db):
    """Most of the catalog holds "men" and "sock", a few products "wool"."""
    rows = [(f"MS-{i:02d}", f"Men's cotton sock {i}") for i in range(40)]  # the cheap ones
    rows += [(f"WS-{i}", f"Men's wool sock {i}") for i in range(4)]
    rows += [(f"SC-{i}", f"Wool scarf {i}") for i in range(6)]
    rows += [("RW-1", "Red wool hat"), ("RC-1", "Red cotton sock")]
    ids = []
    for sku, name in rows:
        price = "5.00" if sku.startswith("MS-") else "50.00"
        ids.append(catalog.upsert_product(sku=sku, name=name, price=price)[0].id)
    refresh_lexical(product_ids=ids)
    refresh_lexeme_stats()


@pytest.mark.parametrize("query", ["wool socks for men", "red socks", "men's wool"])
def test_common_words_matched_through_rarer_ones_keep_the_same_top(
    common_word_shop, settings, query
):
    settings.SEARCH_LEXICAL_FIRST_STAGE = 1  # the first stage keeps only `limit` rows
    settings.SEARCH_LEXICAL_COMMON_FRACTION = 1.0  # every document holding any word
    whole = ranked(query, 3)
    settings.SEARCH_LEXICAL_COMMON_FRACTION = 0.5  # "men" and "sock" are common here
    assert ranked(query, 3) == whole
    assert len(whole) == 3


def test_only_plain_queries_are_narrowed_to_their_rarer_words(common_word_shop, settings):
    from search.retrieval.lexical import _query_words, _rarer_words

    settings.SEARCH_LEXICAL_COMMON_FRACTION = 0.5
    assert _rarer_words(_query_words("wool socks for men", True), 3, None)
    # A -negated word must not become a requirement, nor a phrase's words single ones.
    assert not _rarer_words(_query_words("socks -wool", True), 3, None)
    assert not _rarer_words(_query_words('"wool sock" men', True), 3, None)


def test_a_filtered_search_is_never_narrowed_to_rarer_words(common_word_shop, settings):
    """Under 10 only cotton socks remain: the rarer word "wool" matches none of them, so
    narrowing to it would leave the keyword leg empty."""
    from search.query import SearchFilters

    settings.SEARCH_LEXICAL_FIRST_STAGE = 1
    cheap = SearchFilters(price_max=Decimal("10"))
    settings.SEARCH_LEXICAL_COMMON_FRACTION = 1.0
    whole = lexical_candidates(query="wool socks for men", limit=3, filters=cheap)
    settings.SEARCH_LEXICAL_COMMON_FRACTION = 0.5
    assert lexical_candidates(query="wool socks for men", limit=3, filters=cheap) == whole
    assert len(whole) == 3 and all(c.facet_row.sku.startswith("MS-") for c in whole)
