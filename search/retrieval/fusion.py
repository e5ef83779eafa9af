"""One ranking from the keyword and vector legs (settings.SEARCH_FUSION): a convex
combination of normalised scores (default), or reciprocal rank fusion."""

from __future__ import annotations

import numpy as np
from django.conf import settings

from search.models import SearchIndex
from search.ranking import exact_matches_first
from search.retrieval.vector import dense_similarities
from search.types import Candidate


def fuse(
    legs: dict[str, list[Candidate]], *, index: SearchIndex, query_vector: np.ndarray
) -> list[Candidate]:
    """The legs' candidates as one list, best first, by settings.SEARCH_FUSION."""
    weights = settings.SEARCH_FUSION_WEIGHTS
    if settings.SEARCH_FUSION == "rrf":
        return fuse_reciprocal_ranks(legs, k=settings.SEARCH_RRF_K, weights=weights)
    return fuse_scores(_scored_legs(legs, index=index, query_vector=query_vector), weights=weights)


def fusion_parts(
    legs: dict[str, list[Candidate]], *, index: SearchIndex, query_vector: np.ndarray
) -> dict[int, dict[str, float]]:
    """Each fused candidate's part of its score from each leg that returned it, as `fuse`
    computes them (the fused score is their sum): what a ranking's explanation shows."""
    weights = settings.SEARCH_FUSION_WEIGHTS
    if settings.SEARCH_FUSION == "rrf":
        return _rank_parts(legs, k=settings.SEARCH_RRF_K, weights=weights)
    return _score_parts(_scored_legs(legs, index=index, query_vector=query_vector), weights=weights)


def _scored_legs(
    legs: dict[str, list[Candidate]], *, index: SearchIndex, query_vector: np.ndarray
) -> dict[str, list[Candidate]]:
    """The legs as score fusion needs them, with both scores of every candidate: a keyword
    match outside the vector leg's top list is scored from its stored vector, not counted as
    a zero."""
    seen = {c.product_id for c in legs["vector"]}
    missing = [c for c in legs["lexical"] if c.product_id not in seen]
    similarities = dense_similarities(
        index=index, query_vector=query_vector, product_ids=[c.product_id for c in missing]
    )
    # (Candidate(...) rather than dataclasses.replace: several hundred a search, and
    # replace costs five times a constructor call.)
    vector = legs["vector"] + [
        Candidate(
            product_id=c.product_id,
            retrieval_score=similarities[c.product_id],
            facet_row=c.facet_row,
            similarity=similarities[c.product_id],
        )
        for c in missing
        if c.product_id in similarities
    ]
    return {**legs, "vector": vector}


def _totals(parts: dict[int, dict[str, float]]) -> dict[int, float]:
    return {pid: sum(by_leg.values()) for pid, by_leg in parts.items()}


def _ordered(scores: dict[int, float], legs: dict[str, list[Candidate]]) -> list[Candidate]:
    """Fused candidates, best first (ties by product id). What else a leg read about a
    product is kept; an exact SKU/brand match from any leg stays marked as one, and so does
    a word match and the similarity (what the count reads: search.retrieval.counting)."""
    first: dict[int, Candidate] = {}
    exact: set[int] = set()
    matched: set[int] = set()
    similarity: dict[int, float] = {}
    for candidates in legs.values():
        for candidate in candidates:
            pid = candidate.product_id
            first.setdefault(pid, candidate)
            if candidate.exact:
                exact.add(pid)
            if candidate.matched:
                matched.add(pid)
            if candidate.similarity is not None:
                similarity.setdefault(pid, candidate.similarity)
    ordered = exact_matches_first(sorted(scores), scores=scores, exact=exact)
    return [
        Candidate(
            product_id=pid,
            retrieval_score=scores[pid],
            exact=pid in exact,
            facet_row=first[pid].facet_row,
            matched=pid in matched,
            similarity=similarity.get(pid),
        )
        for pid in ordered
    ]


def fuse_reciprocal_ranks(
    legs: dict[str, list[Candidate]], *, k: int, weights: dict[str, float]
) -> list[Candidate]:
    """Reciprocal rank fusion: each leg votes weight / (k + rank); scores are ignored."""
    return _ordered(_totals(_rank_parts(legs, k=k, weights=weights)), legs)


def _rank_parts(
    legs: dict[str, list[Candidate]], *, k: int, weights: dict[str, float]
) -> dict[int, dict[str, float]]:
    parts: dict[int, dict[str, float]] = {}
    for leg, candidates in legs.items():
        weight = weights.get(leg, 1.0)
        for rank, candidate in enumerate(candidates, start=1):
            parts.setdefault(candidate.product_id, {})[leg] = weight / (k + rank)
    return parts


def fuse_scores(legs: dict[str, list[Candidate]], *, weights: dict[str, float]) -> list[Candidate]:
    """Convex combination of the legs' scores, each min-max normalised over its own
    candidates for this query (Bruch et al., "An Analysis of Fusion Functions for Hybrid
    Retrieval", 2023). Unlike rank fusion it keeps how far apart the scores are: a product
    far ahead in one leg stays ahead, two near-ties stay near. A product a leg did not
    return gets 0 from it (it scored below that leg's worst candidate, or not at all), so
    give each leg every candidate it can score (see `dense_similarities`). Weights are
    relative: 1 and 1 is the plain average."""
    return _ordered(_totals(_score_parts(legs, weights=weights)), legs)


def _score_parts(
    legs: dict[str, list[Candidate]], *, weights: dict[str, float]
) -> dict[int, dict[str, float]]:
    total = sum(weights.get(leg, 1.0) for leg in legs) or 1.0
    parts: dict[int, dict[str, float]] = {}
    for leg, candidates in legs.items():
        if not candidates:
            continue
        weight = weights.get(leg, 1.0) / total
        values = [c.retrieval_score for c in candidates]
        low, high = min(values), max(values)
        for candidate in candidates:
            share = (candidate.retrieval_score - low) / (high - low) if high > low else 1.0
            parts.setdefault(candidate.product_id, {})[leg] = weight * share
    return parts
