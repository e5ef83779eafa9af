"""How hybrid search turns its keyword and vector legs into one ranking."""

from __future__ import annotations

import numpy as np

from search.indexing.indexes import active_index
from search.query import SearchRequest
from search.retrieval.fusion import fuse_reciprocal_ranks, fuse_scores
from search.retrieval.vector import dense_similarities, vector_candidates
from search.services import search_products
from search.types import Candidate

A, B, C, D = 1, 2, 3, 4


def order(fused: list[Candidate]) -> list[int]:
    return [c.product_id for c in fused]


def clear_keyword_winner_vs_vector_near_tie() -> dict[str, list[Candidate]]:
    """A matches the shopper's words far better than anything else; the vector leg barely
    prefers B over A."""
    return {
        "lexical": [Candidate(A, 10.0), Candidate(B, 1.0), Candidate(C, 0.9)],
        "vector": [Candidate(B, 0.80), Candidate(A, 0.79), Candidate(C, 0.50)],
    }


def test_score_fusion_keeps_a_clear_winner_that_rank_fusion_calls_a_tie():
    legs = clear_keyword_winner_vs_vector_near_tie()
    fused = fuse_scores(legs, weights={})
    assert order(fused) == [A, B, C]
    assert fused[0].retrieval_score > fused[1].retrieval_score + 0.4  # not a near tie
    # Rank fusion sees 1st + 2nd for both A and B: the same vote, whatever the scores.
    rrf = fuse_reciprocal_ranks(legs, k=60, weights={})
    assert rrf[0].retrieval_score == rrf[1].retrieval_score


def test_a_product_both_legs_like_beats_one_only_a_single_leg_found():
    legs = {
        "lexical": [Candidate(A, 5.0), Candidate(B, 4.0), Candidate(D, 1.0)],
        "vector": [Candidate(C, 0.9), Candidate(B, 0.85), Candidate(D, 0.2)],
    }
    fused = order(fuse_scores(legs, weights={}))
    assert fused[0] == B
    assert fused[-1] == D


def test_leg_weights_shift_the_ranking_towards_that_leg():
    legs = clear_keyword_winner_vs_vector_near_tie()
    assert order(fuse_scores(legs, weights={"lexical": 0.0, "vector": 1.0}))[:2] == [B, A]
    assert order(fuse_scores(legs, weights={"lexical": 1.0, "vector": 0.0}))[:2] == [A, B]


def test_exact_sku_or_brand_match_stays_first_whatever_the_scores():
    legs = {
        "lexical": [Candidate(A, 9.0), Candidate(D, 0.1, exact=True)],
        "vector": [Candidate(A, 0.9), Candidate(B, 0.8)],
    }
    assert order(fuse_scores(legs, weights={}))[0] == D
    assert order(fuse_reciprocal_ranks(legs, k=60, weights={}))[0] == D


def test_one_empty_leg_leaves_the_other_legs_order():
    legs = {"lexical": [], "vector": [Candidate(C, 0.7), Candidate(A, 0.6)]}
    assert order(fuse_scores(legs, weights={})) == [C, A]


def test_dense_similarities_score_keyword_matches_like_the_vector_leg_does(shop):
    index = active_index()
    query = np.asarray(np.random.default_rng(7).normal(size=index.dims), dtype=np.float32)
    nearest = vector_candidates(index=index, query_vector=query, limit=3)
    ids = [c.product_id for c in nearest]
    similarities = dense_similarities(
        index=index,
        query_vector=query,
        product_ids=[*ids, 987654321],  # no such product
    )
    assert set(similarities) == set(ids)
    for candidate in nearest:
        assert abs(similarities[candidate.product_id] - candidate.retrieval_score) < 1e-6


def test_hybrid_search_answers_with_either_fusion(shop, settings):
    for fusion in ("convex", "rrf"):
        settings.SEARCH_FUSION = fusion
        hits = search_products(SearchRequest(query="leather boots for hiking")).results
        assert hits[0].sku == "BOT-300", fusion
