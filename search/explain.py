"""Why each result of a page ranked where it did (staff's `explain=1`): the stages that placed
it, in pipeline order (search.types.Explanation).

Nothing here runs unless asked. A search asked to explain ranks afresh (search.services:
the cached ranking keeps no per-leg detail, so plain searches cache and read no more than
before) and keeps what its steps produced in a `RankingTrace`; `explain_page` reads that for
the page's products only, with at most two more statements: the query's words each keyword
document holds, and the similarity of the products the vector leg's top list did not reach."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from search.models import SearchIndex
from search.retrieval.fusion import fusion_parts
from search.retrieval.vector import dense_similarities
from search.retrieval.word_matches import matched_words
from search.types import (
    Candidate,
    ClickBoostStage,
    ExactMatchStage,
    ExplainStage,
    Explanation,
    FusionStage,
    KeywordStage,
    RerankStage,
    RuleStage,
    SortStage,
    VectorStage,
)

# The legs as search.retrieval names them, and as an explanation names them.
LEG_NAMES = {"lexical": "keyword", "vector": "vector"}


@dataclass
class RankingTrace:
    """What one ranking's steps produced, kept for explaining it (never cached)."""

    query: str
    legs: dict[str, list[Candidate]]  # each leg's candidates, as it returned them
    fused: list[Candidate] | None  # fusion's list; None when one leg answered alone
    retrieved: list[Candidate]  # what was ranked, before the rerank (exact matches first)
    rerank_scores: dict[int, float]
    index: SearchIndex | None = None
    query_vector: np.ndarray | None = None
    # Merchandising rules act last: the order before them, and what they did to whom
    # (search.merchandising.rules.RuleEffect by product id).
    before_rules: list[int] | None = None
    rule_effects: dict = field(default_factory=dict)
    # What shoppers' clicks added to each boosted product's score, and the order before.
    click_boosts: dict[int, float] = field(default_factory=dict)
    before_clicks: list[int] = field(default_factory=list)


def explain_page(
    trace: RankingTrace, *, relevance: list[int], page_ids: list[int], start: int, sort: str
) -> dict[int, Explanation]:
    """Each page product's explanation. `relevance`: the whole ranked list (after the
    rerank); `page_ids`: the page, from index `start` of it as shown (sorted by `sort`)."""
    lexical, vector = trace.legs.get("lexical"), trace.legs.get("vector")
    words = matched_words(query=trace.query, product_ids=page_ids) if lexical is not None else {}
    similarities = _similarities(trace, vector, page_ids) if vector is not None else {}
    keyword_places, vector_places = _places(lexical or []), _places(vector or [])
    retrieved = {c.product_id: i for i, c in enumerate(trace.retrieved, start=1)}
    fused = {c.product_id: c for c in trace.fused} if trace.fused is not None else None
    fusion_ranks, contributions = _fusion(trace) if trace.fused is not None else ({}, {})
    # What placed the candidates before the exact-match rule: the fused score, or the one
    # leg's own score.
    by_score = fusion_ranks or _score_ranks(trace.retrieved)
    exact = {c.product_id: c for c in trace.retrieved if c.exact}
    before_clicks = {pid: i for i, pid in enumerate(trace.before_clicks, start=1)}
    reranked_order = trace.before_rules if trace.before_rules is not None else relevance
    reranked = (
        {pid: i for i, pid in enumerate(reranked_order, start=1)} if trace.rerank_scores else {}
    )
    final = {pid: i for i, pid in enumerate(relevance, start=1)}

    explanations = {}
    for position, pid in enumerate(page_ids, start=start + 1):
        stages: list[ExplainStage] = []
        if lexical is not None:
            rank, score = keyword_places.get(pid, (None, None))
            found = words.get(pid)
            stages.append(
                KeywordStage(
                    score=score,
                    rank=rank,
                    matched_words=found.words if found else (),
                    matched_in=dict(found.fields) if found else {},
                    trigram_similarity=found.trigram_similarity if found else None,
                )
            )
        if vector is not None:
            rank, similarity = vector_places.get(pid, (None, similarities.get(pid)))
            stages.append(VectorStage(similarity=similarity, rank=rank))
        if fused is not None and pid in fused:
            stages.append(
                FusionStage(
                    method=settings.SEARCH_FUSION,
                    score=fused[pid].retrieval_score,
                    rank=fusion_ranks[pid],
                    contributions=contributions[pid],
                )
            )
        if pid in exact:
            stages.append(
                ExactMatchStage(
                    field=_exact_field(exact[pid], trace.query),
                    rank=retrieved[pid],
                    moved=by_score[pid] - retrieved[pid],
                )
            )
        if pid in trace.click_boosts:
            stages.append(
                ClickBoostStage(
                    boost=trace.click_boosts[pid],
                    rank=retrieved[pid],
                    moved=before_clicks[pid] - retrieved[pid],
                )
            )
        if reranked and pid in reranked:
            stages.append(
                RerankStage(
                    score=trace.rerank_scores.get(pid),
                    rank=reranked[pid],
                    moved=retrieved[pid] - reranked[pid],
                )
            )
        if (effect := trace.rule_effects.get(pid)) is not None and pid in final:
            moved = None if effect.before is None else effect.before - final[pid]
            stages.append(
                RuleStage(action=effect.action, rules=effect.rules, rank=final[pid], moved=moved)
            )
        if sort != "relevance":
            stages.append(SortStage(by=sort, rank=position))
        explanations[pid] = Explanation(position=position, stages=tuple(stages))
    return explanations


def _places(candidates: list[Candidate]) -> dict[int, tuple[int, float]]:
    """product id -> (1-based place, score) in a list of candidates."""
    return {c.product_id: (i, c.retrieval_score) for i, c in enumerate(candidates, start=1)}


def _score_ranks(candidates: list[Candidate]) -> dict[int, int]:
    """Each candidate's place by its score alone (ties by product id, as fusion breaks
    them), before exact SKU/brand matches are put first."""
    ordered = sorted(candidates, key=lambda c: (-c.retrieval_score, c.product_id))
    return {c.product_id: i for i, c in enumerate(ordered, start=1)}


def _similarities(
    trace: RankingTrace, vector: list[Candidate], page_ids: list[int]
) -> dict[int, float]:
    """The query's similarity to the page products the vector leg did not return."""
    seen = {c.product_id for c in vector}
    missing = [pid for pid in page_ids if pid not in seen]
    if not missing or trace.index is None or trace.query_vector is None:
        return {}
    return dense_similarities(
        index=trace.index, query_vector=trace.query_vector, product_ids=missing
    )


def _fusion(trace: RankingTrace) -> tuple[dict[int, int], dict[int, dict[str, float]]]:
    """Each fused candidate's place by fused score alone, and each leg's part of its score
    (0 from a leg that did not return it), as search.retrieval.fusion computed them."""
    fused = trace.fused or []
    parts = fusion_parts(trace.legs, index=trace.index, query_vector=trace.query_vector)
    names = sorted(LEG_NAMES.get(leg, leg) for leg in trace.legs)
    contributions = {}
    for c in fused:
        by_leg = {LEG_NAMES.get(leg, leg): part for leg, part in parts[c.product_id].items()}
        contributions[c.product_id] = {name: by_leg.get(name, 0.0) for name in names}
    return _score_ranks(fused), contributions


def _exact_field(candidate: Candidate, query: str) -> str:
    """Which of its identifiers the query is: "sku" or "brand" (as the keyword leg compares)."""
    row = candidate.facet_row
    if row is not None and row.sku.lower() == query.lower():
        return "sku"
    return "brand"


def describe_stage(stage: ExplainStage) -> str:
    """One stage in words, for the storefront's "Why this rank?" and `manage.py search`."""
    if isinstance(stage, KeywordStage):
        if stage.rank is None:
            return "Keywords: not matched"
        words = ", ".join(
            f"{w} ({stage.matched_in[w]})" if w in stage.matched_in else w
            for w in stage.matched_words
        )
        text = f"Keywords: score {stage.score:.3f}, rank {stage.rank}"
        text += f"; matched {words}" if words else "; no query word in it"
        if stage.trigram_similarity:
            text += f"; name/brand/SKU similarity {stage.trigram_similarity:.2f}"
        return text
    if isinstance(stage, VectorStage):
        if stage.similarity is None:
            return "Meaning: no vector for this product yet"
        where = f"rank {stage.rank}" if stage.rank else "outside the nearest neighbours"
        return f"Meaning: similarity {stage.similarity:.3f}, {where}"
    if isinstance(stage, FusionStage):
        parts = " + ".join(f"{leg} {value:.3f}" for leg, value in stage.contributions.items())
        return f"Fused ({stage.method}): {stage.score:.3f} = {parts}, rank {stage.rank}"
    if isinstance(stage, ExactMatchStage):
        return f"Exact {stage.field} match: put first, rank {stage.rank}{_moved(stage.moved)}"
    if isinstance(stage, ClickBoostStage):
        return f"Shoppers' clicks: {stage.boost:+.3f}, rank {stage.rank}{_moved(stage.moved)}"
    if isinstance(stage, RerankStage):
        if stage.score is None:
            return f"Reranker: below the reranked top, rank {stage.rank}"
        return f"Reranker: score {stage.score:.3f}, rank {stage.rank}{_moved(stage.moved)}"
    if isinstance(stage, RuleStage):
        which = ", ".join(f"#{r}" if r is not None else "(this draft)" for r in stage.rules)
        moved = " (not in the ranking)" if stage.moved is None else _moved(stage.moved)
        return f"Merchandising rule {which}: {stage.action}, rank {stage.rank}{moved}"
    if isinstance(stage, SortStage):
        return f"Sorted by {stage.by.replace('_', ' ')}: rank {stage.rank}"
    return str(stage)


def _moved(moved: int) -> str:
    if moved > 0:
        return f" (up {moved})"
    if moved < 0:
        return f" (down {-moved})"
    return ""
