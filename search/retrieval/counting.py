"""Which of a query's ranked products a search counts: the `count` a shopper reads, what the
pages hold and what the facets count. The ranking is not changed: the counted products are
the ranked list with the others left out, in the same order.

A product counts when it

1. is an exact SKU or brand match (the shopper typed its identifier), or
2. matches the query's words: it holds words carrying at least WORD_COVERAGE of the query's
   information, each word weighed by its rarity in the catalog (the keyword leg's idf), so
   a product sharing one common word ("red" of "red running shoes") does not count, while
   one missing a single word of a longer query still does. A query written with a
   "quoted phrase", -negation or "or" counts the products that satisfy it as written. A
   trigram near miss of the name, brand or SKU counts only when the query holds a word
   no product has (a likely misspelling: "sneakrs"), since otherwise it is a shared first
   word that makes it near ("blue towel" is near "Blue Throw Pillow"), or
3. is close in meaning: its similarity to the query (the vector leg's cosine) is nearer the
   best hit's than an average product's, i.e. at least MEANING_SHARE of the way from the
   query's mean similarity to the whole catalog up to the best hit's. Relative, because
   what cosine a relevant product reaches differs from model to model (and between text
   and photo queries). Both ends are the whole catalog's, not the candidates': a small
   shop, or a filter that leaves few products, does not move the floor, and a filter only
   ever removes counted products (a facet's count is what choosing it shows).

A photo query has no words: it counts by meaning (and a lexical-mode query by words) only.
What is left out is not lost: the best few weaker matches are offered after the counted
ones (search.services.ALSO_LIKE, "You might also like" on the storefront).

Known limit: a relative floor cannot tell "nothing like this is sold here" from "this is the
closest thing": a query the shop has nothing for still counts the products nearest to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.types import Candidate

# The share of the query's information (sum of its words' idf) a product's words must hold.
# Half: the product holds at least as much of what the shopper asked for as it lacks. One
# common word of three cannot reach it; all but one word of a long query usually does.
WORD_COVERAGE = 0.5

# Where the meaning floor sits between the query's similarity to an average product of the
# catalog (0) and to its best hit (1): half way, i.e. a product counts when it is nearer the
# best hit than an average product. The midpoint needs no calibration per model.
MEANING_SHARE = 0.5


def matches_words(
    *,
    covered: float,
    information: float,
    satisfies_query: bool,
    near_miss: bool,
    misspelt: bool,
) -> bool:
    """Rule 2 for one product of the keyword leg. `covered`: the idf of the query words it
    holds; `information`: the idf of all the query's words; `satisfies_query`: it matches a
    query written with a phrase, negation or "or" as written (False for plain queries);
    `near_miss`: it is a trigram near miss of the query; `misspelt`: the query holds a word
    no product has."""
    if satisfies_query:
        return True
    if information > 0 and covered >= WORD_COVERAGE * information:
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
