"""Keeping the search box's suggestions (search.suggest) fresh: beat rebuilds them all
(popular queries from the search insights rollups; brands, categories and product names from
the catalog); the indexing path refreshes a changed product's row, brand and category at
once, so a new product is suggested before the next rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

# Past queries offered to every shopper: searched by at least SEARCH_SUGGEST_MIN_VISITORS
# distinct visitors on one day (a shopper's rare query, however often they repeat it, is
# never shown to others), within SEARCH_SUGGEST_DAYS days, and not always without results.
_QUERIES_SQL = """
INSERT INTO search_suggestion (kind, text, label, path, weight, terms)
SELECT 'query', lower(q.normalised_query), min(q.normalised_query), '', sum(q.visitors),
       to_tsvector('simple', lower(q.normalised_query))
FROM search_queryday q
WHERE q.day >= %(since)s AND NOT q.photo AND q.normalised_query <> ''
  AND length(q.normalised_query) <= 300
GROUP BY lower(q.normalised_query)
HAVING max(q.visitors) >= %(min_visitors)s AND sum(q.searches) > sum(q.zero_result_searches)
"""

# Brands and categories of active products, weighted by how many products they hold (with
# `ids`: only those of these products; the next rebuild corrects the counts). A category is
# labelled with its parent ("Women / Sneakers"): shops name many categories alike.
_CATALOG_SQL = """
INSERT INTO search_suggestion (kind, text, label, path, weight, terms)
SELECT 'brand', lower(p.brand), min(p.brand), '', count(*), to_tsvector('simple', lower(p.brand))
FROM catalog_product p
WHERE p.active AND p.brand <> '' AND length(p.brand) <= 300 AND {ids}
GROUP BY lower(p.brand)
UNION ALL
SELECT 'category', lower(c.name), left(coalesce(parent.name || ' / ', '') || c.name, 300),
       c.path, count(p.id), to_tsvector('simple', lower(c.name))
FROM catalog_category c
LEFT JOIN catalog_category parent ON parent.id = c.parent_id
JOIN catalog_product p ON p.category_id = c.id AND p.active
WHERE length(c.name) <= 300 AND {ids}
GROUP BY c.id, parent.name
ON CONFLICT (kind, text, path) WHERE product_id IS NULL DO UPDATE
SET weight = greatest(search_suggestion.weight, EXCLUDED.weight), label = EXCLUDED.label
"""

# One row per active product: its name, matched by the words of its name and brand. Two
# refreshes of one product can overlap (a worker's and a request's): the later one wins.
_PRODUCTS_SQL = """
INSERT INTO search_suggestion (kind, text, label, path, weight, product_id, terms)
SELECT 'product', left(lower(p.name), 300), left(p.name, 300), coalesce(c.path, ''), 0, p.id,
       to_tsvector('simple', lower(p.name || ' ' || p.brand))
FROM catalog_product p
LEFT JOIN catalog_category c ON c.id = p.category_id
WHERE p.active AND {ids}
ON CONFLICT (product_id) WHERE product_id IS NOT NULL DO UPDATE
SET text = EXCLUDED.text, label = EXCLUDED.label, path = EXCLUDED.path, terms = EXCLUDED.terms
"""


def refresh_suggestions() -> int:
    """Rebuild every suggestion in one transaction (readers see the old set until it
    commits). Returns how many there are."""
    since = timezone.now().date() - timedelta(days=settings.SEARCH_SUGGEST_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_suggestion")
        cursor.execute(
            _QUERIES_SQL,
            {"since": since, "min_visitors": settings.SEARCH_SUGGEST_MIN_VISITORS},
        )
        cursor.execute(_CATALOG_SQL.format(ids="true"))
        cursor.execute(_PRODUCTS_SQL.format(ids="true"))
        cursor.execute("SELECT count(*) FROM search_suggestion")
        return cursor.fetchone()[0]


def refresh_product_suggestions(*, product_ids: Sequence[int]) -> None:
    """These products' rows as they are now (an inactive or deleted one has none), and
    their brands and categories (called with their keyword documents)."""
    ids = {"ids": list(product_ids)}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_suggestion WHERE product_id = ANY(%(ids)s)", ids)
        cursor.execute(_PRODUCTS_SQL.format(ids="p.id = ANY(%(ids)s)"), ids)
        cursor.execute(_CATALOG_SQL.format(ids="p.id = ANY(%(ids)s)"), ids)
