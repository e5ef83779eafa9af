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

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction

from search.models import SearchIndex
from search.query import SearchFilters
from search.types import Candidate, FacetRow


def _halfvec_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(x):.6g}" for x in vector) + "]"


def _fetch_with_settings(gucs: dict[str, str], sql: str, params: dict) -> list[tuple]:
    """Rows of `sql` run with these settings local to its transaction (pooled connections
    stay clean). With client-side binding (Django's default for psycopg 3) the settings and
    the query go in one simple-protocol message, which PostgreSQL runs as one implicit
    transaction: one round trip instead of BEGIN, set_config, query, COMMIT."""
    set_sql = "SELECT " + ", ".join(
        f"set_config('{name}', %(_guc{i})s, true)" for i, name in enumerate(gucs)
    )
    params = {**params, **{f"_guc{i}": value for i, value in enumerate(gucs.values())}}
    with connection.cursor() as cursor:
        if isinstance(cursor.cursor, psycopg.ClientCursor):
            cursor.execute(set_sql + ";\n" + sql, params)
            cursor.nextset()
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:  # server-side binding
        cursor.execute(set_sql, params)
        cursor.execute(sql, params)
        return cursor.fetchall()


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
            SELECT e.product_id, {distance} AS distance,
                   p.sku, p.category_id, p.brand, p.price
            FROM search_productembedding e
            JOIN catalog_product p ON p.id = e.product_id
            LEFT JOIN catalog_category c ON c.id = p.category_id
            WHERE e.index_id = {int(index.pk)} AND {where}
            ORDER BY {distance}
            LIMIT %(limit)s
        )
        SELECT product_id, 1 - distance, sku, category_id, brand, price
        FROM nearest ORDER BY distance
    """
    params.update(q=_halfvec_literal(query_vector), limit=limit)
    gucs = {
        "hnsw.ef_search": str(settings.SEARCH_HNSW_EF_SEARCH),
        "hnsw.iterative_scan": "relaxed_order" if filters else "off",
        "hnsw.max_scan_tuples": str(settings.SEARCH_HNSW_MAX_SCAN_TUPLES),
    }
    return [
        Candidate(product_id=pid, retrieval_score=float(s), facet_row=FacetRow(*row))
        for pid, s, *row in _fetch_with_settings(gucs, sql, params)
    ]


_LEXICAL_SQL = """
WITH q AS (
    SELECT websearch_to_tsquery('english', %(q)s) AS strict,
           -- any query word may match ("aa batteries 100 pack" must not need all four);
           -- documents matching more words still rank higher.
           coalesce(nullif(replace(websearch_to_tsquery('english', %(q)s)::text, ' & ', ' | '), ''),
                    '')::tsquery AS loose,
           lower(%(q)s) AS text
),
-- First stage: the full score below costs a trigram similarity and a ts_rank per query word
-- for every row, and a common word ("black") matches a third of a big catalog. So each
-- branch of the match keeps its best %(first_stage)s rows (exact SKU/brand first): word
-- matches by the score's word part, trigram near-misses by their similarity. A query with
-- fewer matches keeps them all and ranks exactly as a one-stage query would.
matched AS MATERIALIZED (
    (SELECT l.product_id
     FROM search_lexicaldocument l
     CROSS JOIN q
     JOIN catalog_product p ON p.id = l.product_id
     LEFT JOIN catalog_category c ON c.id = p.category_id
     WHERE l.document @@ q.loose {rarer_words} AND {where}
     ORDER BY (lower(p.sku) = q.text OR lower(p.brand) = q.text) DESC,
              {word_score} + ts_rank('{0.1, 0.2, 0.4, 1.0}', l.document, q.strict, 1) DESC,
              l.product_id
     LIMIT %(first_stage)s)
    UNION
    -- Each branch has its own GIN index (the SKU is a word of the document), so no table scan.
    (SELECT l.product_id
     FROM search_lexicaldocument l
     CROSS JOIN q
     JOIN catalog_product p ON p.id = l.product_id
     LEFT JOIN catalog_category c ON c.id = p.category_id
     WHERE %(trigram)s AND q.text <%% l.keywords AND {where}
     ORDER BY (lower(p.sku) = q.text OR lower(p.brand) = q.text) DESC,
              word_similarity(q.text, l.keywords) DESC, l.product_id
     LIMIT %(first_stage)s)
)
-- Second stage: the full score over those rows only.
SELECT l.product_id,
       {word_score}
         + ts_rank('{0.1, 0.2, 0.4, 1.0}', l.document, q.strict, 1)
         + CASE WHEN %(trigram)s THEN word_similarity(q.text, l.keywords) ELSE 0 END AS score,
       (lower(p.sku) = q.text OR lower(p.brand) = q.text) AS exact,
       p.sku, p.category_id, p.brand, p.price
FROM matched m
JOIN search_lexicaldocument l ON l.product_id = m.product_id
CROSS JOIN q
JOIN catalog_product p ON p.id = l.product_id
ORDER BY exact DESC, score DESC, l.product_id
LIMIT %(limit)s
"""


_TERMS_SQL = """
SELECT t.lexeme::text,
       CASE WHEN %(idf)s AND total.ndoc > 0
            THEN ln(1 + (total.ndoc - coalesce(s.ndoc, 0) + 0.5) / (coalesce(s.ndoc, 0) + 0.5))
            ELSE 1 END,
       coalesce(s.ndoc, 0),
       coalesce(total.ndoc, 0),
       -- a plain query: its words joined by AND (no "quoted phrase", -negation or "or")
       websearch_to_tsquery('english', %(q)s)::text !~ '[!|<]'
FROM unnest(tsvector_to_array(to_tsvector('english', %(q)s))) AS t(lexeme)
LEFT JOIN search_lexemestat s ON s.lexeme = t.lexeme
LEFT JOIN search_lexemestat total ON total.lexeme = ''
"""


@dataclass(frozen=True)
class _QueryWord:
    lexeme: str
    idf: float
    ndoc: int  # keyword documents holding it (0 until the statistics exist)
    catalog_size: int  # keyword documents in all
    plain_query: bool


def _query_words(query: str, idf: bool) -> list[_QueryWord]:
    """The query's stemmed words with their weights and document counts. Each word weighs
    by its rarity (BM25's idf; 1 for every word until the statistics exist), so "pack" in
    "aa batteries 100 pack" counts for less than "batteries"."""
    with connection.cursor() as cursor:
        cursor.execute(_TERMS_SQL, {"q": query, "idf": idf})
        return [_QueryWord(*row) for row in cursor.fetchall()]


def _word_score(words: list[_QueryWord], params: dict) -> str:
    """The idf-weighted word part of the keyword score as one inline expression (the weights
    are read once per query, not computed per row); adds its values to params."""
    parts = []
    for i, word in enumerate(words):
        params[f"_lex{i}"], params[f"_idf{i}"] = word.lexeme, word.idf
        parts.append(
            f"%(_idf{i})s * ts_rank('{{0.1, 0.2, 0.4, 1.0}}', l.document,"
            f" quote_literal(%(_lex{i})s)::tsquery, 1)"
        )
    return "(" + (" + ".join(parts) or "0") + ")"


def _rarer_words_filter(
    words: list[_QueryWord], first_stage: int, filters: SearchFilters | None, params: dict
) -> str:
    """Narrow the word branch to documents holding one of the query's rarer words, when those
    alone match enough documents to fill the first stage ("navy blue shirts for men": not
    every product for men). Words in more than SEARCH_LEXICAL_COMMON_FRACTION of the catalog
    weigh little (their idf is low): a document holding only them ranks below the first
    stage's cut anyway, while scoring them cost most of the keyword leg on a big catalog.
    They still count in every score. Plain, unfiltered queries only (a -negated word must
    not become a requirement; within a brand or category the rarer words' counts say nothing);
    "" when nothing is narrowed."""
    if filters or not words or not words[0].plain_query:
        return ""
    limit = settings.SEARCH_LEXICAL_COMMON_FRACTION * words[0].catalog_size
    rarer = [w for w in words if w.ndoc <= limit]
    if len(rarer) == len(words) or not rarer or max(w.ndoc for w in rarer) < first_stage:
        return ""
    params["rarer_words"] = " | ".join("'" + w.lexeme.replace("'", "''") + "'" for w in rarer)
    return "AND l.document @@ %(rarer_words)s::tsquery"


def lexical_candidates(
    *, query: str, limit: int, filters: SearchFilters | None = None
) -> list[Candidate]:
    """Products matching the query's words (stemmed, weighted by field), near-misses of the
    name/brand/SKU by trigram similarity ("sneakrs", "iphone 1"), and exact SKU or brand
    matches first."""
    if not query.strip():
        return []
    where, params = filter_sql(filters)
    first_stage = max(limit, settings.SEARCH_LEXICAL_FIRST_STAGE)
    params.update(
        q=query,
        limit=limit,
        first_stage=first_stage,
        trigram=settings.SEARCH_LEXICAL_TRIGRAM,
    )
    words = _query_words(query, settings.SEARCH_LEXICAL_IDF)
    sql = (
        _LEXICAL_SQL.replace("{where}", where)
        .replace("{word_score}", _word_score(words, params))
        .replace("{rarer_words}", _rarer_words_filter(words, first_stage, filters, params))
    )
    gucs = {"pg_trgm.word_similarity_threshold": str(settings.SEARCH_TRIGRAM_THRESHOLD)}
    rows = _fetch_with_settings(gucs, sql, params)
    return [
        Candidate(
            product_id=pid,
            retrieval_score=float(score),
            exact=bool(exact),
            facet_row=FacetRow(*row),
        )
        for pid, score, exact, *row in rows
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
