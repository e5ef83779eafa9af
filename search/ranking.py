"""The ranking rules, each in one place: exact SKU/brand matches first, and the orders a
shopper can sort by. (The keyword leg's SQL applies the exact-match rule itself too, to
decide which rows its first stage keeps: search.retrieval.lexical.)"""

from __future__ import annotations

from collections.abc import Iterable

from catalog.models import Product
from search.replicas import read_alias


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
