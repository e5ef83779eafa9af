"""The ranking rules, each in one place: exact SKU/brand matches first, the click boost, and
the orders a shopper can sort by. (The keyword leg's SQL applies the exact-match rule itself too, to
decide which rows its first stage keeps: search.retrieval.lexical.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from catalog.models import Product
from search.replicas import read_alias
from search.types import Candidate


def exact_matches_first(
    product_ids: Iterable[int], *, scores: dict[int, float], exact: set[int]
) -> list[int]:
    """Best score first; a product whose SKU or brand is exactly what the shopper typed goes
    before all the others, whatever its score (they typed its identifier). Ties keep the
    given order."""
    return sorted(product_ids, key=lambda pid: (pid not in exact, -scores[pid]))


def reranked(order: list[int], *, scores: dict[int, float], exact: set[int]) -> list[int]:
    """The reranked head (the products with a reranker score) by that score, exact matches
    still first, then the rest in retrieval order."""
    head = exact_matches_first([pid for pid in order if pid in scores], scores=scores, exact=exact)
    return head + [pid for pid in order if pid not in scores]


def with_click_boosts(
    candidates: list[Candidate], *, boosts: dict[int, float], weight: float, page: int
) -> tuple[list[Candidate], dict[int, float]]:
    """The ranked candidates with what shoppers' clicks say added to their scores, reordered
    by that (search.insights.clicks: each boost is in [-1, 1]), and the score each one got.

    A boost is `weight` times the score spread of the first `page` candidates (a shopper's
    first page: where clicks are gathered), in the ranking's own units whatever made the
    scores (fusion, one leg). So `weight` 0.5 lets the product every shopper picks and the
    one every shopper skips swap across at most a whole first page, and no weight lifts a
    weak match from deep in the list to the top. Exact SKU/brand matches stay first (clicks
    never bury what the shopper typed the identifier of); what else a candidate carries (what
    the result count reads) is kept, so clicks change the order, never what counts."""
    if not weight or not boosts or len(candidates) < 2:
        return candidates, {}
    first = [c.retrieval_score for c in candidates[:page]]
    spread = (max(first) - min(first)) or 1.0
    added = {
        c.product_id: weight * boosts[c.product_id] * spread
        for c in candidates
        if boosts.get(c.product_id)
    }
    if not added:
        return candidates, {}
    boosted = {c.product_id: c.retrieval_score + added.get(c.product_id, 0.0) for c in candidates}
    exact = {c.product_id for c in candidates if c.exact}
    order = exact_matches_first(boosted, scores=boosted, exact=exact)  # stable: ties keep places
    by_id = {c.product_id: c for c in candidates}
    return [replace(by_id[pid], retrieval_score=boosted[pid]) for pid in order], added


def sorted_by(order: list[int], sort: str) -> list[int]:
    """Relevance order, or by price (products without a price last; relevance breaks ties)."""
    if sort == "relevance":
        return order
    products = Product.objects.using(read_alias()).filter(id__in=order)
    prices = dict(products.values_list("id", "price"))
    rank = {pid: i for i, pid in enumerate(order)}
    sign = 1 if sort == "price_asc" else -1

    def key(pid: int):
        price = prices.get(pid)
        return (price is None, sign * price if price is not None else 0, rank[pid])

    return sorted(order, key=key)
