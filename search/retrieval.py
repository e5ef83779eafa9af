"""Candidate retrieval: the vector leg (HNSW over one SearchIndex), the keyword leg
(weighted tsvector + trigram typo matching + exact SKU/brand), shopper filters applied inside
both legs so a selective filter still fills a page, and the fusion of both legs
(a convex combination of normalised scores, or reciprocal rank fusion).

Raw SQL where the planner must see exactly what the indexes were built on
(`embedding::halfvec(dims)` with `index_id = N`, `document @@ tsquery`, `keywords %> q`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from search.models import SearchIndex

if TYPE_CHECKING:
    from search.services import SearchFilters


@dataclass(frozen=True)
class Candidate:
    product_id: int
    retrieval_score: float  # vector: cosine similarity; keyword: rank score; fused: fusion score
    exact: bool = False  # the query is this product's SKU or brand, exactly


def _halfvec_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(x):.6g}" for x in vector) + "]"


def filter_sql(filters: SearchFilters | None) -> tuple[str, dict]:
    """WHERE fragments over `catalog_product p` / `catalog_category c` for these filters."""
    clauses = ["p.active"]
    params: dict = {}
    if filters is None:
        return " AND ".join(clauses), params
    if filters.category:
        clauses.append("(c.path = %(f_cat)s OR c.path LIKE %(f_cat_prefix)s)")
        params["f_cat"] = filters.category
        params["f_cat_prefix"] = filters.category.replace("%", r"\%").replace("_", r"\_") + "/%"
    if filters.brands:
        clauses.append("lower(p.brand) = ANY(%(f_brands)s)")
        params["f_brands"] = [b.lower() for b in filters.brands]
    if filters.price_min is not None:
        clauses.append("p.price >= %(f_price_min)s")
        params["f_price_min"] = filters.price_min
    if filters.price_max is not None:
        clauses.append("p.price <= %(f_price_max)s")
        params["f_price_max"] = filters.price_max
    for i, (name, value) in enumerate(filters.attributes):
        # Case-insensitive on the value, whatever its JSON type ("Red", 42, true).
        clauses.append(f"lower(p.attributes ->> %(f_attr_k{i})s) = lower(%(f_attr_v{i})s)")
        params[f"f_attr_k{i}"] = name
        params[f"f_attr_v{i}"] = value
    return " AND ".join(clauses), params


def vector_candidates(
    *,
    index: SearchIndex,
    query_vector: np.ndarray,
    limit: int,
    filters: SearchFilters | None = None,
) -> list[Candidate]:
    """Nearest active products to the query in this index, best first.

    With filters, pgvector 0.8's iterative index scan keeps walking the HNSW graph until
    `limit` rows pass the filter (bounded by hnsw.max_scan_tuples), instead of returning
    the few of the first ef_search neighbours that happen to match."""
    dims = int(index.dims)
    if query_vector.shape[-1] != dims:
        raise ValueError(f"query has {query_vector.shape[-1]} dims, index has {dims}")
    where, params = filter_sql(filters)
    distance = f"e.embedding::halfvec({dims}) <=> %(q)s::halfvec({dims})"
    sql = f"""
        WITH nearest AS MATERIALIZED (
            SELECT e.product_id, {distance} AS distance
            FROM search_productembedding e
            JOIN catalog_product p ON p.id = e.product_id
            LEFT JOIN catalog_category c ON c.id = p.category_id
            WHERE e.index_id = {int(index.pk)} AND {where}
            ORDER BY {distance}
            LIMIT %(limit)s
        )
        SELECT product_id, 1 - distance FROM nearest ORDER BY distance
    """
    params.update(q=_halfvec_literal(query_vector), limit=limit)
    with transaction.atomic(), connection.cursor() as cursor:
        # set_config(..., true) lasts for this transaction only: pooled connections stay clean.
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true),"
            " set_config('hnsw.iterative_scan', %s, true),"
            " set_config('hnsw.max_scan_tuples', %s, true)",
            [
                str(settings.SEARCH_HNSW_EF_SEARCH),
                "relaxed_order" if filters else "off",
                str(settings.SEARCH_HNSW_MAX_SCAN_TUPLES),
            ],
        )
        cursor.execute(sql, params)
        return [Candidate(product_id=pid, retrieval_score=float(s)) for pid, s in cursor.fetchall()]


_LEXICAL_SQL = """
WITH q AS (
    SELECT websearch_to_tsquery('english', %(q)s) AS strict,
           -- any query word may match ("aa batteries 100 pack" must not need all four);
           -- documents matching more words still rank higher.
           coalesce(nullif(replace(websearch_to_tsquery('english', %(q)s)::text, ' & ', ' | '), ''),
                    '')::tsquery AS loose,
           lower(%(q)s) AS text
),
-- Each query word weighs by its rarity (BM25's idf; 1 for every word until the statistics
-- exist), so "pack" in "aa batteries 100 pack" counts for less than "batteries".
terms AS MATERIALIZED (
    SELECT t.lexeme::text AS lexeme,
           CASE WHEN %(idf)s AND total.ndoc > 0
                THEN ln(1 + (total.ndoc - coalesce(s.ndoc, 0) + 0.5) / (coalesce(s.ndoc, 0) + 0.5))
                ELSE 1 END AS idf
    FROM unnest(tsvector_to_array(to_tsvector('english', %(q)s))) AS t(lexeme)
    LEFT JOIN search_lexemestat s ON s.lexeme = t.lexeme
    LEFT JOIN search_lexemestat total ON total.lexeme = ''
)
SELECT l.product_id,
       (SELECT coalesce(sum(terms.idf * ts_rank('{0.1, 0.2, 0.4, 1.0}', l.document,
                                                 quote_literal(terms.lexeme)::tsquery, 1)), 0)
        FROM terms)
         + ts_rank('{0.1, 0.2, 0.4, 1.0}', l.document, q.strict, 1)
         + CASE WHEN %(trigram)s THEN word_similarity(q.text, l.keywords) ELSE 0 END AS score,
       (lower(p.sku) = q.text OR lower(p.brand) = q.text) AS exact
FROM search_lexicaldocument l
CROSS JOIN q
JOIN catalog_product p ON p.id = l.product_id
LEFT JOIN catalog_category c ON c.id = p.category_id
-- Each branch has its own GIN index (the SKU is a word of the document), so no table scan.
WHERE (l.document @@ q.loose OR (%(trigram)s AND q.text <%% l.keywords))
  AND {where}
ORDER BY exact DESC, score DESC, l.product_id
LIMIT %(limit)s
"""


def lexical_candidates(
    *, query: str, limit: int, filters: SearchFilters | None = None
) -> list[Candidate]:
    """Products matching the query's words (stemmed, weighted by field), near-misses of the
    name/brand/SKU by trigram similarity ("sneakrs", "iphone 1"), and exact SKU or brand
    matches first."""
    if not query.strip():
        return []
    where, params = filter_sql(filters)
    params.update(
        q=query,
        limit=limit,
        trigram=settings.SEARCH_LEXICAL_TRIGRAM,
        idf=settings.SEARCH_LEXICAL_IDF,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(settings.SEARCH_TRIGRAM_THRESHOLD)],
        )
        cursor.execute(_LEXICAL_SQL.replace("{where}", where), params)
        return [
            Candidate(product_id=pid, retrieval_score=float(score), exact=bool(exact))
            for pid, score, exact in cursor.fetchall()
        ]


def dense_similarities(
    *, index: SearchIndex, query_vector: np.ndarray, product_ids: Sequence[int]
) -> dict[int, float]:
    """Cosine similarity of the query to each of these products' stored vectors in this
    index (products without one are left out). Used to score keyword matches that the vector
    leg's top list did not reach: each is one row read by primary key, no graph walk."""
    if not product_ids:
        return {}
    dims = int(index.dims)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_id, 1 - (embedding::halfvec({dims}) <=> %s::halfvec({dims}))"
            " FROM search_productembedding WHERE index_id = %s AND product_id = ANY(%s)",
            [_halfvec_literal(query_vector), int(index.pk), list(product_ids)],
        )
        return {pid: float(similarity) for pid, similarity in cursor.fetchall()}


def _ordered(scores: dict[int, float], legs: dict[str, list[Candidate]]) -> list[Candidate]:
    """Fused candidates, best first. Exact SKU/brand matches from the keyword leg stay on top
    whatever the scores; what else a leg read about a product is kept."""
    first: dict[int, Candidate] = {}
    exact: set[int] = set()
    for candidates in legs.values():
        for candidate in candidates:
            first.setdefault(candidate.product_id, candidate)
            if candidate.exact:
                exact.add(candidate.product_id)
    ordered = sorted(scores, key=lambda pid: (pid not in exact, -scores[pid], pid))
    return [replace(first[pid], retrieval_score=scores[pid], exact=pid in exact) for pid in ordered]


def fuse_reciprocal_ranks(
    legs: dict[str, list[Candidate]], *, k: int, weights: dict[str, float]
) -> list[Candidate]:
    """Reciprocal rank fusion: each leg votes weight / (k + rank); scores are ignored."""
    scores: dict[int, float] = {}
    for leg, candidates in legs.items():
        weight = weights.get(leg, 1.0)
        for rank, candidate in enumerate(candidates, start=1):
            pid = candidate.product_id
            scores[pid] = scores.get(pid, 0.0) + weight / (k + rank)
    return _ordered(scores, legs)


def fuse_scores(legs: dict[str, list[Candidate]], *, weights: dict[str, float]) -> list[Candidate]:
    """Convex combination of the legs' scores, each min-max normalised over its own
    candidates for this query (Bruch et al., "An Analysis of Fusion Functions for Hybrid
    Retrieval", 2023). Unlike rank fusion it keeps how far apart the scores are: a product
    far ahead in one leg stays ahead, two near-ties stay near. A product a leg did not
    return gets 0 from it (it scored below that leg's worst candidate, or not at all), so
    give each leg every candidate it can score (see `dense_similarities`). Weights are
    relative: 1 and 1 is the plain average."""
    total = sum(weights.get(leg, 1.0) for leg in legs) or 1.0
    scores: dict[int, float] = {}
    for leg, candidates in legs.items():
        if not candidates:
            continue
        weight = weights.get(leg, 1.0) / total
        values = [c.retrieval_score for c in candidates]
        low, high = min(values), max(values)
        for candidate in candidates:
            share = (candidate.retrieval_score - low) / (high - low) if high > low else 1.0
            pid = candidate.product_id
            scores[pid] = scores.get(pid, 0.0) + weight * share
    return _ordered(scores, legs)


def spelling_suggestion(query: str) -> str | None:
    """The query with misspelled words replaced by the closest word of the catalog's names
    and brands ("sneakrs" -> "sneakers"), or None when every word is known."""
    words = re.findall(r"[^\W\d_]+", query.lower())[:8]
    if not words:
        return None
    replacements: dict[str, str] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', '0.3', true)")
        for word in {w for w in words if len(w) >= 4}:
            # Known as written, or in another form ("sneaker" for "sneakers"): the stemmed
            # word occurs in some product's keyword document.
            cursor.execute(
                "SELECT numnode(plainto_tsquery('english', %s)) = 0"
                " OR EXISTS (SELECT 1 FROM search_vocabularyword WHERE word = %s)"
                " OR EXISTS (SELECT 1 FROM search_lexicaldocument"
                "            WHERE document @@ plainto_tsquery('english', %s))",
                [word, word, word],
            )
            if cursor.fetchone()[0]:
                continue
            cursor.execute(
                "SELECT word FROM search_vocabularyword WHERE word %% %s"
                " ORDER BY similarity(word, %s) DESC, word LIMIT 1",
                [word, word],
            )
            row = cursor.fetchone()
            if row:
                replacements[word] = row[0]
    if not replacements:
        return None
    return re.sub(r"[^\W\d_]+", lambda m: replacements.get(m.group(0), m.group(0)), query.lower())
