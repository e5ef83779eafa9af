"""Synonyms shape the keyword leg at query time: what they find, how it ranks and counts,
and that a change shows on the very next search."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from search.indexing.embedding import embed_products
from search.indexing.lexical import refresh_lexeme_stats
from search.merchandising.models import SynonymSet
from search.merchandising.synonyms import (
    SynonymsInvalid,
    delete_synonym_set,
    export_csv,
    import_csv,
    save_synonym_set,
)
from search.query import SearchRequest
from search.services import search_products


def skus(response):
    return [hit.sku for hit in response.results]


@pytest.fixture
def trainers(shop):
    """The shop with a product called trainers (no word "sneakers" in it) and a phone case
    that is not an iPhone's."""
    ids = [
        catalog.upsert_product(
            sku="TRN-1", name="Leather trainers", brand="Courtside",
            category="Footwear/Trainers", price="70.00", description="Low-top court shoes.",
        )[0].id,
        catalog.upsert_product(
            sku="CAS-1", name="Universal phone case", brand="Shellwise",
            category="Electronics/Phone Cases", price="15.00", description="Fits most phones.",
        )[0].id,
    ]  # fmt: skip
    embed_products(product_ids=ids)
    refresh_lexeme_stats()


def lexical(query: str, **kwargs):
    return search_products(SearchRequest(query=query, mode="lexical", **kwargs))


def test_a_multi_way_set_finds_trainers_for_sneakers_in_keyword_mode(trainers):
    assert "TRN-1" not in skus(lexical("sneakers"))
    save_synonym_set(data={"terms": ["sneakers", "trainers", "running shoes"]})
    response = lexical("sneakers")
    assert "TRN-1" in skus(response)
    assert response.applied_synonyms[0]["matched"] == "sneakers"
    assert set(response.applied_synonyms[0]["alternatives"]) == {"trainers", "running shoes"}
    # and the other way round: it is multi-way
    assert {"SNK-100", "SNK-200"} <= set(skus(lexical("trainers")))


def test_a_product_matching_the_words_typed_ranks_above_one_matching_a_synonym(trainers):
    save_synonym_set(data={"terms": ["sneakers", "trainers"]})
    order = skus(lexical("sneakers"))
    assert order.index("TRN-1") > max(order.index("SNK-100"), order.index("SNK-200"))


def test_a_synonym_match_counts_as_the_word_it_stands_for(trainers):
    save_synonym_set(data={"terms": ["sneakers", "trainers"]})
    response = lexical("leather sneakers")
    assert "TRN-1" in skus(response)  # counted: it holds "leather" and a synonym of the rest


def test_a_one_way_set_works_one_way_only(trainers):
    save_synonym_set(data={"from": "trainers", "to": ["sneakers"]})
    assert {"TRN-1", "SNK-100", "SNK-200"} <= set(skus(lexical("trainers")))
    response = lexical("sneakers")
    assert response.applied_synonyms == []
    assert "TRN-1" not in skus(response)


def test_a_one_way_phrase_finds_its_phrase(trainers):
    assert "CAS-1" not in skus(lexical("iphone case"))
    save_synonym_set(data={"from": "iphone case", "to": ["phone case"]})
    response = lexical("iphone case")
    assert "CAS-1" in skus(response)
    assert skus(response)[0] == "PHN-015"  # what was typed still comes first


def test_a_change_shows_on_the_very_next_search(trainers):
    assert "TRN-1" not in skus(lexical("sneakers"))  # cached now
    synonym_set = save_synonym_set(data={"terms": ["sneakers", "trainers"]})
    assert "TRN-1" in skus(lexical("sneakers"))
    delete_synonym_set(synonym_set=synonym_set)
    assert "TRN-1" not in skus(lexical("sneakers"))


def test_a_query_written_with_search_syntax_is_searched_as_written(trainers):
    save_synonym_set(data={"terms": ["sneakers", "trainers"]})
    assert lexical('"canvas sneakers"').applied_synonyms == []


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"terms": []}, "terms", "empty"),
        ({"terms": ["sneakers"]}, "terms", "one term"),
        ({"terms": ["sneakers", "Sneakers"]}, "terms", "twice"),
        ({"terms": ["sneakers", "train\x00ers"]}, "terms", "control characters"),
        ({"terms": ["sneakers", "x" * 101]}, "terms", "at most 100"),
        ({"terms": ["a", "b"], "colour": "red"}, "colour", "unknown"),
        ({"from": "iphone case"}, "detail", "from and to"),
        ({"from": "case", "to": ["case"]}, "to", "itself"),
    ],
)
def test_bad_sets_are_refused_with_the_reason(db, data, field, reason):
    with pytest.raises(SynonymsInvalid) as refused:
        save_synonym_set(data=data)
    assert reason in " ".join(refused.value.errors[field])
    assert not SynonymSet.objects.exists()


def test_a_circular_one_way_set_is_refused_as_a_multi_way_set(db):
    save_synonym_set(data={"from": "sofa", "to": ["couch"]})
    with pytest.raises(SynonymsInvalid) as refused:
        save_synonym_set(data={"from": "couch", "to": ["sofa"]})
    assert "multi-way" in str(refused.value)


def test_csv_export_then_import_gives_the_same_sets(db):
    save_synonym_set(data={"terms": ["sneakers", "trainers", "running shoes"]})
    save_synonym_set(data={"from": "iphone case", "to": ["phone case", "phone cover"]})
    text = export_csv(SynonymSet.objects.all())
    before = sorted((s.source, tuple(s.terms)) for s in SynonymSet.objects.all())
    SynonymSet.objects.all().delete()
    assert import_csv(text=text) == 2
    assert sorted((s.source, tuple(s.terms)) for s in SynonymSet.objects.all()) == before
    assert import_csv(text=text) == 0  # the same sets again add nothing


def test_a_csv_with_a_bad_row_adds_nothing_and_names_the_row(db):
    text = 'from,terms\n,"sneakers, trainers"\n,lonely\n'
    with pytest.raises(SynonymsInvalid, match="row 3"):
        import_csv(text=text)
    assert not SynonymSet.objects.exists()
