"""Which of a query's ranked products a search counts: the `count` a shopper reads, what the
pages hold and what the facets count. The ranking is not changed: the counted products are
the ranked list with the others left out, in the same order.

A product counts when it

1. is an exact SKU or brand match (the shopper typed its identifier), or
2. matches the query's words: it holds most of the query's words (more than half of them,
   stemmed, stop words aside) and those carry at least WORD_COVERAGE of the query's
   information, each word weighed by its rarity in the catalog (the keyword leg's idf). So
   sharing one word of "red running shoes" or of "blue towel" is not enough (whichever word
   is rarer in the shop), nor are the common words of a query without its telling ones,
   while missing one word of a long query is fine. A query written with a "quoted phrase",
   -negation or "or" counts what satisfies it as written. A trigram near miss of the name,
   brand or SKU counts only when the query holds a word no product has (a likely
   misspelling: "sneakrs"): otherwise what makes it near is often just a shared first word
   ("blue towel" is near "Blue Throw Pillow"), or
3. is close in meaning: its similarity to the query (the vector leg's cosine) is at least
   MEANING_SHARE of the way from the query's mean similarity to the catalog's products up
   to its best hit's. Relative, because what cosine a relevant product reaches differs
   from model to model (and between text and photo queries). Both ends are the whole
   catalog's, not the candidates': a small shop, or a filter that leaves few products,
   does not move the floor, and a filter only ever removes counted products (a facet's
   count is what choosing it shows).

A photo query has no words: it counts by meaning alone (and a lexical-mode query by words).
What is left out is not lost: the best few weaker matches are offered after the counted
ones (search.services.ALSO_LIKE, "You might also like" on the storefront).

Known limit: a relative floor cannot tell "nothing like this is sold here" from "this is the
closest thing": a query the shop has nothing for still counts the products nearest to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.types import Candidate

# The share of the query's information (its words' idf) a product's words must hold, beside
# holding most of those words: half, as much of what was asked for as is missing, so the
# words it holds are the telling ones ("aa", "100" and "pack" are three of the four words
# of "aa batteries 100 pack", but no battery).
WORD_COVERAGE = 0.5

# How many times worse it is to leave a relevant product out of the count than to count an
# irrelevant one. Counted, a weak match stays where the ranking put it, after every better
# one: it costs a shopper who reads that far a glance. Left out, a relevant product is gone
# from the pages and the facets (only the best ALSO_LIKE of the rest are offered). Twice,
# the usual weight of a recall-leaning choice (as F2 weighs recall).
MISS_COST = 2.0

# Where the meaning floor sits between the query's mean similarity to the catalog (0: what
# an unrelated product gets) and its best hit's (1). With nothing else known, take the chance
# that a product is what the shopper wants to rise in proportion from one end to the other;
# counting pays when that chance times MISS_COST exceeds the chance it is not, i.e. above
# 1 / (1 + MISS_COST) = one third of the way (equal costs would give the midpoint). No
# threshold to calibrate per model.
MEANING_SHARE = 1 / (1 + MISS_COST)


def matches_words(
    *,
    held: Sequence[bool],
    idfs: Sequence[float],
    satisfies_query: bool,
    near_miss: bool,
    misspelt: bool,
) -> bool:
    """Rule 2 for one product of the keyword leg. `held`: whether it holds each query word;
    `idfs`: each word's weight, its idf in the catalog; `satisfies_query`: it matches a
    query written with a phrase, negation or "or" as written (False for plain queries);
    `near_miss`: it is a trigram near miss of the query; `misspelt`: the query holds a word
    no product has."""
    if satisfies_query:
        return True
    holds = [float(idf) for idf, h in zip(idfs, held, strict=True) if h]
    most = 2 * len(holds) > len(held)
    if most and sum(holds) >= WORD_COVERAGE * sum(float(idf) for idf in idfs):
        return True
    return near_miss and misspelt


def meaning_floor(*, best: float, typical: float) -> float:
    """Rule 3's floor: MEANING_SHARE of the way from `typical` (the query's mean similarity
    to the catalog's products) to `best` (its best hit's). A best hit below the average
    (a filter that kept only unlike products) puts the floor above it: nothing counts."""
    return typical + MEANING_SHARE * (best - typical)


def is_counted(candidate: Candidate, *, floor: float | None) -> bool:
    """Whether this fused (or single-leg) candidate counts (rules 1-3)."""
    if candidate.exact or candidate.matched:
        return True
    return floor is not None and candidate.similarity is not None and candidate.similarity >= floor


def counted_products(
    candidates: Sequence[Candidate], *, scale: tuple[float, float] | None
) -> set[int]:
    """The ids of the candidates that count. `scale`: (typical, best), the query's mean
    similarity to the catalog's products and its best hit's
    (search.retrieval.vector.meaning_scale); None when no vector leg ran."""
    floor = None if scale is None else meaning_floor(typical=scale[0], best=scale[1])
    return {c.product_id for c in candidates if is_counted(c, floor=floor)}
