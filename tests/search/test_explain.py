"""Explaining a ranking through the service: the rerank stage with the reranker's own score,
a keyword match the vector leg's top list did not reach, and no extra work for plain
searches."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

from search import results_cache, services
from search.query import SearchRequest
from search.services import search_products


def by_name(hit) -> dict:
    return {stage.stage: stage for stage in hit.explanation.stages}


def test_a_reranked_result_shows_the_rerank_score_and_how_far_it_moved(
    indexed_catalog, settings, tiny_cross_encoder
):
    settings.VITRINE_RERANKER = str(tiny_cross_encoder)
    settings.SEARCH_RERANK_TOP_N = 8
    # The whole ranking, counted or not (README, "Result counts"): a page's positions are then
    # the reranked list's own places.
    plain = search_products(SearchRequest(query="bath towel", page_size=8), whole_ranking=True)
    explained = search_products(
        SearchRequest(query="bath towel", page_size=8, explain=True), whole_ranking=True
    )
    assert [h.sku for h in explained.results] == [h.sku for h in plain.results]

    moved = []
    for position, hit in enumerate(explained.results, start=1):
        assert [s.stage for s in hit.explanation.stages] == [
            "keyword",
            "vector",
            "fusion",
            "rerank",
        ]
        stages = by_name(hit)
        assert stages["rerank"].score == pytest.approx(hit.rerank_score)
        assert stages["rerank"].rank == position == hit.explanation.position
        assert stages["rerank"].moved == stages["fusion"].rank - position
        moved.append(stages["rerank"].moved)
    assert any(moved)  # the reranker, not retrieval, decided this order (and it says so)


def test_a_keyword_match_outside_the_vector_top_list_gets_its_similarity_all_the_same(
    indexed_catalog, settings
):
    query = "lamp towel saw"  # three things: each leg's top few differ
    # (the keyword leg's best make the fused top, whatever the vector leg's scores)
    settings.SEARCH_FUSION_WEIGHTS = {"lexical": 10.0, "vector": 1.0}
    outside = []
    for depth in range(3, 7):  # how deep each leg reads: the first depth where they differ
        shallow = search_products(
            SearchRequest(query=query, page_size=8, explain=True), max_candidates=depth
        )
        outside = [hit for hit in shallow.results if by_name(hit)["vector"].rank is None]
        if outside:
            break
    assert outside, "expected a keyword match beyond the vector leg's top list"
    # The same similarity the vector leg gives it when it reaches that far.
    deep = search_products(SearchRequest(query=query, page_size=8, mode="vector", explain=True))
    similarity = {hit.sku: by_name(hit)["vector"].similarity for hit in deep.results}
    for hit in outside:
        assert by_name(hit)["keyword"].rank is not None
        assert by_name(hit)["vector"].similarity == pytest.approx(similarity[hit.sku], abs=1e-3)


def test_plain_searches_carry_no_explanation_and_cache_none(indexed_catalog):
    response = search_products(SearchRequest(query="coffee mug"))
    assert all(hit.explanation is None for hit in response.results)
    search_products(SearchRequest(query="coffee mug", explain=True))
    # What the explained search cached is the plain ranking: no per-leg detail is kept.
    key = results_cache.ranking_cache_key(
        SearchRequest(query="coffee mug"), services.active_index(), services.MAX_CANDIDATES
    )
    assert cache.get(key).trace is None


def test_the_search_command_explains_on_request(indexed_catalog):
    out = io.StringIO()
    call_command("search", "coffee mug", "--explain", "--page-size", "2", stdout=out)
    text = out.getvalue()
    # The words as the keyword leg stems them ("coffee" -> "coffe"), and where each was found.
    assert "Keywords: score" in text and "matched coffe (name), mug (name)" in text
    assert "Meaning: similarity" in text and "Fused (convex)" in text
