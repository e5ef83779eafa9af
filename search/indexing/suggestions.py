"""Keeping the search box's suggestions (search.suggest) fresh: beat rebuilds them all
(popular queries from the search insights rollups, brands and categories from the catalog);
the indexing path adds a changed product's brand and category at once, so a new brand is
suggested before the next rebuild."""

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
INSERT INTO search_suggestion (kind, text, label, path, weight)
SELECT 'query', lower(q.normalised_query), min(q.normalised_query), '', sum(q.visitors)
FROM search_queryday q
WHERE q.day >= %(since)s AND NOT q.photo AND q.normalised_query <> ''
  AND length(q.normalised_query) <= 300
GROUP BY lower(q.normalised_query)
HAVING max(q.visitors) >= %(min_visitors)s AND sum(q.searches) > sum(q.zero_result_searches)
ON CONFLICT (kind, text, path) DO UPDATE SET weight = EXCLUDED.weight
"""

# Brands and categories of active products, weighted by how many products they hold. With
# `ids`, only those of these products (their counts are corrected by the next rebuild).
_CATALOG_SQL = """
INSERT INTO search_suggestion (kind, text, label, path, weight)
SELECT 'brand', lower(p.brand), min(p.brand), '', count(*)
FROM catalog_product p
WHERE p.active AND p.brand <> '' AND length(p.brand) <= 300 AND {ids}
GROUP BY lower(p.brand)
UNION ALL
SELECT 'category', lower(c.name), c.name, c.path, count(p.id)
FROM catalog_category c
JOIN catalog_product p ON p.category_id = c.id AND p.active
WHERE length(c.name) <= 300 AND {ids}
GROUP BY c.id
ON CONFLICT (kind, text, path) DO UPDATE
SET weight = greatest(search_suggestion.weight, EXCLUDED.weight), label = EXCLUDED.label
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
        cursor.execute("SELECT count(*) FROM search_suggestion")
        return cursor.fetchone()[0]


def add_catalog_suggestions(*, product_ids: Sequence[int]) -> None:
    """Suggest these products' brands and categories (called with their keyword documents)."""
    with connection.cursor() as cursor:
        cursor.execute(_CATALOG_SQL.format(ids="p.id = ANY(%(ids)s)"), {"ids": list(product_ids)})
