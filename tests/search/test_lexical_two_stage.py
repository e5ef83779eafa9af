"""The keyword leg ranks in two stages (a bounded first stage by a cheap measure, the full
score over it): cutting the first stage must not change what comes out on top."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from search import indexing
from search.retrieval import lexical_candidates


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
    indexing.refresh_lexical(product_ids=ids)
    indexing.refresh_lexeme_stats()


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
