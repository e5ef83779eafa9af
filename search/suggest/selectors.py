"""What the search box suggests for a typed prefix: past queries and brands, products and
categories, in one statement on the search read path (and a second for the products'
cards), cached briefly per prefix.

Typo tolerance: the prefix's last word is completed from the catalog's vocabulary by prefix
("snea" -> sneakers) and, when it has MIN_FUZZY_CHARS letters, by trigram word similarity
too ("snek" -> sneakers); products match the completed words (their stems, as prefixes) in
their keyword documents. Suggestions (queries, brands, categories) match the whole prefix at
their start or at a word's start, or by word similarity."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from catalog.selectors import product_cards
from search.replicas import read_alias, reads_on_replica
from search.retrieval.statement import fetch_with_settings

MAX_PREFIX_CHARS = 100  # longer is not a prefix being typed: refused
MAX_LIMIT = 20
MIN_FUZZY_CHARS = 4  # shorter words have too few trigrams to match by similarity
# pg_trgm's word similarity a typo-tolerant completion needs ("snek" in "sneakers": 0.6;
# "sno" in "sneakers" 0.5 is not one).
FUZZY_THRESHOLD = 0.6
VOCABULARY_COMPLETIONS = 12  # words the last typed word may complete to, at most
PRODUCT_POOL = 500  # matching products read before ordering (a common prefix matches many)

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


_SUGGEST_SQL = """
WITH last AS (
    (SELECT v.word FROM search_vocabularyword v
     WHERE v.word LIKE %(last_like)s
     ORDER BY length(v.word), v.word LIMIT %(completions)s)
    UNION
    (SELECT v.word FROM search_vocabularyword v
     WHERE %(fuzzy)s AND %(last)s <%% v.word
     ORDER BY word_similarity(%(last)s, v.word) DESC, length(v.word), v.word
     LIMIT %(completions)s)
), tq AS (
    SELECT plainto_tsquery('english', %(head)s)
           && to_tsquery('english', coalesce(string_agg(quote_literal(word) || ':*', ' | '), ''))
           AS q
    FROM last
), pool AS (
    SELECT p.id, p.name
    FROM search_lexicaldocument l CROSS JOIN tq
    JOIN catalog_product p ON p.id = l.product_id
    LEFT JOIN catalog_category c ON c.id = p.category_id
    WHERE numnode(tq.q) > 0 AND l.document @@ tq.q AND p.active
      AND (%(category)s = '' OR c.path = %(category)s OR c.path LIKE %(category_like)s)
    LIMIT %(pool)s
), products AS (
    SELECT 'product' AS kind, id::text AS text, '' AS label, '' AS path,
           -- names starting with the prefix first, then the shortest (the most general)
           (lower(name) LIKE %(prefix_like)s)::int * 1000000 - length(name) AS rank
    FROM pool ORDER BY rank DESC, id LIMIT %(limit)s
), suggested AS (
    SELECT s.kind, s.text, s.label, s.path,
           CASE WHEN s.text LIKE %(prefix_like)s THEN 2
                WHEN s.text LIKE %(word_like)s THEN 1 ELSE 0 END AS how,
           s.weight
    FROM search_suggestion s
    WHERE (s.text LIKE %(prefix_like)s OR s.text LIKE %(word_like)s
           OR (%(fuzzy)s AND %(prefix)s <%% s.text))
      AND (s.kind <> 'category' OR %(category)s = '' OR s.path = %(category)s
           OR s.path LIKE %(category_like)s)
    ORDER BY how DESC, s.weight DESC, length(s.text), s.text
    LIMIT %(limit)s * 3
)
SELECT kind, text, label, path FROM products
UNION ALL
SELECT kind, text, label, path FROM suggested
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
    last = words[-1]
    params = {
        "last": last,
        "last_like": _like(last) + "%",
        "fuzzy": len(last) >= MIN_FUZZY_CHARS,
        "head": " ".join(words[:-1]),
        "completions": VOCABULARY_COMPLETIONS,
        "prefix": prefix,
        "prefix_like": _like(prefix) + "%",
        "word_like": "% " + _like(prefix) + "%",
        "category": category,
        "category_like": _like(category) + "/%",
        "pool": PRODUCT_POOL,
        "limit": limit,
    }
    gucs = {"pg_trgm.word_similarity_threshold": str(FUZZY_THRESHOLD)}
    rows = fetch_with_settings(gucs, _SUGGEST_SQL, params)
    product_ids = [int(text) for kind, text, _, _ in rows if kind == "product"]
    cards = product_cards(ids=product_ids, using=read_alias()) if product_ids else {}
    queries: list[str] = []
    categories: list[CategorySuggestion] = []
    for kind, text, label, path in rows:
        shown = text if kind == "query" else label
        if kind in ("query", "brand") and len(queries) < limit and shown not in queries:
            queries.append(shown)
        elif kind == "category" and len(categories) < limit:
            categories.append(CategorySuggestion(path=path, label=label))
    products = [
        ProductSuggestion(
            sku=card.sku, name=card.name, image=card.photo_url, url=card.url, price=card.price
        )
        for card in (cards.get(pid) for pid in product_ids)
        if card is not None
    ]
    return Suggestions(queries=queries, products=products, categories=categories)
