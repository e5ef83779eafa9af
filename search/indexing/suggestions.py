"""Keeping the search box's suggestions (search.suggest) fresh: beat rebuilds them all
(popular queries from the search insights rollups; brands, categories and product names from
the catalog); the indexing path refreshes a changed product's row, brand and category at
once, so a new product is suggested before the next rebuild.

A rebuild writes only what changed: rewriting every row (as a DELETE and INSERT of the whole
table did) left the table with as many dead rows as live ones and every row's words queued in
the GIN indexes, which made the search box ~3x slower until autovacuum came by (at 100k
products, p50 5 ms -> 18 ms, after every rebuild)."""

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
SELECT 'query' AS kind, lower(q.normalised_query) AS text, min(q.normalised_query) AS label,
       '' AS path, sum(q.visitors) AS weight,
       to_tsvector('simple', lower(q.normalised_query)) AS terms
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
"""

# A changed product's brand and category: counted over these products only, so never below
# what the last rebuild counted.
_UPSERT_CATALOG_SQL = f"""
INSERT INTO search_suggestion (kind, text, label, path, weight, terms)
{_CATALOG_SQL}
ON CONFLICT (kind, text, path) WHERE product_id IS NULL DO UPDATE
SET weight = greatest(search_suggestion.weight, EXCLUDED.weight), label = EXCLUDED.label
WHERE search_suggestion.weight < EXCLUDED.weight OR search_suggestion.label <> EXCLUDED.label
"""

# The rebuild's queries, brands and categories: the new set, then the table brought to it in
# one statement (the two changes touch different rows), rows that did not change left as
# they are. Returns how many rows it wrote.
_MERGE_OTHERS_SQL = f"""
WITH fresh AS (
{_QUERIES_SQL}
UNION ALL
{_CATALOG_SQL.format(ids="true")}
), dropped AS (
    DELETE FROM search_suggestion s
    WHERE s.product_id IS NULL AND NOT EXISTS (
        SELECT 1 FROM fresh f WHERE f.kind = s.kind AND f.text = s.text AND f.path = s.path)
    RETURNING 1
), merged AS (
    INSERT INTO search_suggestion (kind, text, label, path, weight, terms)
    SELECT f.kind, f.text, f.label, f.path, f.weight, f.terms
    FROM fresh f
    LEFT JOIN search_suggestion s
           ON s.product_id IS NULL AND s.kind = f.kind AND s.text = f.text AND s.path = f.path
    WHERE s.id IS NULL OR (s.label, s.weight, s.terms) IS DISTINCT FROM (f.label, f.weight, f.terms)
    ON CONFLICT (kind, text, path) WHERE product_id IS NULL DO UPDATE
    SET label = EXCLUDED.label, weight = EXCLUDED.weight, terms = EXCLUDED.terms
    WHERE (search_suggestion.label, search_suggestion.weight, search_suggestion.terms)
          IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.weight, EXCLUDED.terms)
    RETURNING 1
)
SELECT (SELECT count(*) FROM dropped) + (SELECT count(*) FROM merged)
"""

# One row per active product: its name, matched by the words of its name and brand; a row
# whose product's name, brand and category did not change is not rewritten, nor even locked
# (left out before the upsert). Two refreshes of one product can overlap (a worker's and a
# request's): the later one wins.
_PRODUCTS_SQL = """
INSERT INTO search_suggestion (kind, text, label, path, weight, product_id, terms)
SELECT 'product', n.text, n.label, n.path, 0, n.product_id, n.terms
FROM (
    SELECT p.id AS product_id, left(lower(p.name), 300) AS text, left(p.name, 300) AS label,
           coalesce(c.path, '') AS path,
           to_tsvector('simple', lower(p.name || ' ' || p.brand)) AS terms
    FROM catalog_product p
    LEFT JOIN catalog_category c ON c.id = p.category_id
    WHERE p.active AND {ids}
) n
LEFT JOIN search_suggestion s ON s.product_id = n.product_id
WHERE s.id IS NULL
   OR (s.text, s.label, s.path, s.terms) IS DISTINCT FROM (n.text, n.label, n.path, n.terms)
ON CONFLICT (product_id) WHERE product_id IS NOT NULL DO UPDATE
SET text = EXCLUDED.text, label = EXCLUDED.label, path = EXCLUDED.path, terms = EXCLUDED.terms
WHERE (search_suggestion.text, search_suggestion.label, search_suggestion.path,
       search_suggestion.terms)
      IS DISTINCT FROM (EXCLUDED.text, EXCLUDED.label, EXCLUDED.path, EXCLUDED.terms)
"""

# Products no longer shown (deactivated; a deleted one's row goes with it by cascade).
_DROP_INACTIVE_SQL = """
DELETE FROM search_suggestion s
USING catalog_product p
WHERE s.product_id = p.id AND NOT p.active AND {ids}
"""

# Once this share of the rows changed in one rebuild, the planner's statistics are renewed
# at once (what a prefix matches is estimated from them) rather than whenever autovacuum
# comes by.
ANALYZE_SHARE = 0.1


def refresh_suggestions() -> int:
    """Bring every suggestion up to date in one transaction (readers see the old set until
    it commits), writing only the rows that changed. Returns how many there are."""
    since = timezone.now().date() - timedelta(days=settings.SEARCH_SUGGEST_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _MERGE_OTHERS_SQL,
            {"since": since, "min_visitors": settings.SEARCH_SUGGEST_MIN_VISITORS},
        )
        changed = cursor.fetchone()[0]
        for sql in (_DROP_INACTIVE_SQL, _PRODUCTS_SQL):
            cursor.execute(sql.format(ids="true"))
            changed += max(cursor.rowcount, 0)
        cursor.execute("SELECT count(*) FROM search_suggestion")
        total = cursor.fetchone()[0]
        if changed > ANALYZE_SHARE * total:
            cursor.execute("ANALYZE search_suggestion")
        return total


def refresh_product_suggestions(*, product_ids: Sequence[int]) -> None:
    """These products' rows as they are now (an inactive or deleted one has none), and
    their brands and categories (called with their keyword documents)."""
    ids = {"ids": list(product_ids)}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_DROP_INACTIVE_SQL.format(ids="p.id = ANY(%(ids)s)"), ids)
        cursor.execute(_PRODUCTS_SQL.format(ids="p.id = ANY(%(ids)s)"), ids)
        cursor.execute(_UPSERT_CATALOG_SQL.format(ids="p.id = ANY(%(ids)s)"), ids)
