"""What the search box suggests for a typed prefix: past queries and brands, products and
categories, from one small table (search.models.Suggestion) whose rows are matched by the
words they hold, each typed word as a word's beginning ("trail run" -> "Trail running
sneakers"), in one statement on the search read path, plus one for the products' cards;
cached briefly per prefix.

Typo tolerance: when the last typed word (MIN_FUZZY_CHARS letters or more) begins no word of
the catalog, its one-slip variants that do ("snek" -> "snea", "sneak") are matched instead,
the cheapest slips first (search.retrieval.spelling's keyboard-aware costs): two more round
trips, only for a prefix that is already misspelt."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from catalog.selectors import product_cards
from search.replicas import read_alias, read_connection, reads_on_replica
from search.retrieval.spelling import one_slip_away, slip_cost

MAX_PREFIX_CHARS = 100  # longer is not a prefix being typed: refused
MAX_LIMIT = 20
MIN_FUZZY_CHARS = 4  # a shorter word has too many one-slip variants to say which was meant
MAX_RESPELLINGS = 4  # equally cheap variants of a misspelt word matched, at most
POOL = 300  # matches of each kind read before ordering (a short prefix matches many)

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_WORDS = re.compile(r"[^\W_]+")


class InvalidPrefix(ValueError):
    """The prefix or limit cannot be answered; the message names the parameter (`param`)."""

    def __init__(self, message: str, *, param: str):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ProductSuggestion:
    sku: str
    name: str
    image: str | None
    url: str
    price: Decimal | None


@dataclass(frozen=True)
class CategorySuggestion:
    path: str
    label: str


@dataclass(frozen=True)
class Suggestions:
    queries: list[str]
    products: list[ProductSuggestion]
    categories: list[CategorySuggestion]

    def as_data(self) -> dict:
        return asdict(self)


EMPTY = Suggestions(queries=[], products=[], categories=[])


def check_prefix(raw: str) -> str:
    """The prefix as matched: control characters refused, whitespace folded, lower-cased."""
    if len(raw) > MAX_PREFIX_CHARS:
        raise InvalidPrefix(f"the prefix is longer than {MAX_PREFIX_CHARS} characters", param="q")
    if _CONTROL_CHARS.search(raw.replace("\t", " ")):
        raise InvalidPrefix("the prefix may not contain control characters", param="q")
    return " ".join(raw.split()).lower()


# Suggestions (queries, brands, categories) and products apart, so that neither crowds the
# other out; each a pool of matches (a short prefix matches many), then the best of it:
# those beginning with the whole prefix, the most popular, the shortest. `{match}`: how rows
# match (_MATCH).
_SUGGEST_SQL = """
WITH suggested AS (
    SELECT s.kind, s.text, s.label, s.path, s.product_id, s.weight
    FROM search_suggestion s
    WHERE {match} AND s.product_id IS NULL
      AND (s.kind <> 'category' OR %(category)s = '' OR s.path = %(category)s
           OR s.path LIKE %(category_like)s)
    {order} LIMIT %(pool)s
), products AS (
    SELECT s.kind, s.text, s.label, s.path, s.product_id, s.weight
    FROM search_suggestion s
    WHERE {match} AND s.product_id IS NOT NULL
      AND (%(category)s = '' OR s.path = %(category)s OR s.path LIKE %(category_like)s)
    {order} LIMIT %(pool)s
)
(SELECT kind, text, label, path, product_id FROM suggested
 ORDER BY text LIKE %(prefix_like)s DESC, weight DESC, length(text), text LIMIT %(limit)s * 2)
UNION ALL
(SELECT kind, text, label, path, product_id FROM products
 ORDER BY text LIKE %(prefix_like)s DESC, length(text), text LIMIT %(limit)s)
"""

# Words of three letters or more are matched as word beginnings through the GIN index of
# `terms`; a shorter one begins too many words for that to be cheap ("s", "8 o"), so it is
# checked on the rows the longer words found, and a prefix of short words only is matched at
# the start of the text, in the order of its prefix index (asked for: without it the planner
# may read the table until it has found a pool, 17k rows for "pu" at 100k products). Beside
# a longer word, a word of two letters joins it in the index too: together they narrow the
# rows before any is read ("red pe": 5,489 rows begin a word with "red", 217 also one with
# "pe"; ~12 ms -> ~6 ms at 100k products), where one letter would cost more than it saves.
_MATCH = {
    "words": "s.terms @@ to_tsquery('simple', %(tsquery)s)",
    "words_then_short": "s.terms @@ to_tsquery('simple', %(tsquery)s)"
    " AND (s.text LIKE %(short_start)s OR s.text LIKE %(short_inside)s)",
    "start": "s.text ~>=~ %(prefix)s AND s.text ~<~ %(prefix_end)s",
}
SHORT_WORD = 2  # letters

# Which of the typed word's one-slip variants begin some word of the catalog: a range of the
# vocabulary's pattern index (Django's varchar_pattern_ops on the word) per variant, as
# LIKE 'v%' would be planned.
_BEGINNINGS_SQL = """
SELECT v FROM unnest(%(variants)s::text[]) AS v
WHERE EXISTS (SELECT 1 FROM search_vocabularyword w
              WHERE w.word ~>=~ v AND w.word ~<~ (v || chr(1114111)))
"""


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def suggest(*, prefix: str, limit: int = 8, category: str = "") -> Suggestions:
    """Up to `limit` past queries and brands (popular first), products and categories for
    this prefix (already checked: check_prefix), products and categories within `category`
    (a path) when given. An empty prefix suggests nothing."""
    if not _WORDS.search(prefix):
        return EMPTY
    key = "suggest:v1:" + hashlib.sha256(repr((prefix, limit, category)).encode()).hexdigest()
    found = cache.get(key)
    if found is not None:
        return found
    result = _suggest(prefix, limit, category)
    cache.set(key, result, settings.SEARCH_SUGGEST_CACHE_S)
    return result


@reads_on_replica  # search reads go to a replica when there is one (search.replicas)
def _suggest(prefix: str, limit: int, category: str) -> Suggestions:
    words = _WORDS.findall(prefix)
    rows = _matching(words, prefix, limit, category)
    if not rows and len(words[-1]) >= MIN_FUZZY_CHARS:
        rows = _matching(words[:-1] + [_respelt(words[-1])], prefix, limit, category)
    product_ids = [pid for kind, _, _, _, pid in rows if kind == "product"]
    cards = product_cards(ids=product_ids, using=read_alias()) if product_ids else {}
    queries: list[str] = []
    categories: list[CategorySuggestion] = []
    labels: set[str] = set()  # categories named alike under one parent are shown once
    for kind, text, label, path, _ in rows:
        shown = text if kind == "query" else label
        if kind in ("query", "brand") and len(queries) < limit and shown not in queries:
            queries.append(shown)
        elif kind == "category" and len(categories) < limit and label not in labels:
            labels.add(label)
            categories.append(CategorySuggestion(path=path, label=label))
    products: list[ProductSuggestion] = []
    for card in (cards.get(pid) for pid in product_ids):
        if card is not None and card.name not in {p.name for p in products}:
            products.append(
                ProductSuggestion(
                    sku=card.sku,
                    name=card.name,
                    image=card.photo_url,
                    url=card.url,
                    price=card.price,
                )
            )
    return Suggestions(queries=queries, products=products, categories=categories)


def _matching(words: list[str], prefix: str, limit: int, category: str) -> list[tuple]:
    """Rows matching every word as a beginning (the last may be several alternatives,
    "snea|sneak"). Words are letters and digits only: safe in to_tsquery's syntax."""
    if not words[-1]:
        return []
    longer = [w for w in words if len(w) > SHORT_WORD or "|" in w]
    short = [w for w in words if w not in longer]
    indexed = longer + [w for w in short if len(w) == SHORT_WORD]
    params = {
        "tsquery": " & ".join(f"({w.replace('|', ':* | ')}:*)" for w in indexed),
        "prefix": prefix,
        "prefix_end": prefix + chr(0x10FFFF),
        "prefix_like": _like(prefix) + "%",
        "category": category,
        "category_like": _like(category) + "/%",
        "pool": POOL,
        "limit": limit,
    }
    if not longer:
        match = "start"
    elif short:
        match = "words_then_short"
        params["short_start"] = _like(short[-1]) + "%"
        params["short_inside"] = "% " + _like(short[-1]) + "%"
    else:
        match = "words"
    order = "ORDER BY s.text" if match == "start" else ""
    with read_connection().cursor() as cursor:
        cursor.execute(_SUGGEST_SQL.format(match=_MATCH[match], order=order), params)
        return cursor.fetchall()


def _respelt(word: str) -> str:
    """The typed word's cheapest one-slip variants that begin a word of the catalog, as
    alternatives ("snea|sneak"); "" when none does."""
    variants = {v for v in one_slip_away(word) if len(v) >= MIN_FUZZY_CHARS and v.isalnum()}
    with read_connection().cursor() as cursor:
        cursor.execute(_BEGINNINGS_SQL, {"variants": sorted(variants)})
        found = [row[0] for row in cursor.fetchall()]
    if not found:
        return ""
    costs = {v: slip_cost(word, v) for v in found}
    cheapest = min(costs.values())
    return "|".join(sorted(v for v, c in costs.items() if c == cheapest)[:MAX_RESPELLINGS])
