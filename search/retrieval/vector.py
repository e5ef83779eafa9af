"""The vector leg: nearest neighbours of the query in one SearchIndex (HNSW over halfvec).

Raw SQL where the planner must see exactly what the indexes were built on: each index has a
partial HNSW index over `embedding::halfvec(dims)` WHERE `index_id = N`, so both appear in
the statement as literals."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from django.conf import settings
from psycopg import sql

from search.models import SearchIndex
from search.query import SearchFilters
from search.replicas import read_connection, require_index
from search.retrieval.filters import FilterShape, filter_clause, filter_values
from search.retrieval.statement import fetch_with_settings, halfvec_literal, render
from search.types import Candidate, FacetRow

# How far a filtered search may walk the graph (pgvector's iterative scan) to fill its
# candidates. pgvector's default: in docs/BENCHMARKS.md (filtered) it filled every page for a
# brand holding 1% of 100k products, at ~21 ms of SQL against 4 ms unfiltered; a filter
# rarer than that stops here with fewer candidates rather than scanning the whole graph.
HNSW_MAX_SCAN_TUPLES = 20_000

_NEAREST_SQL = sql.SQL(
    """
        WITH nearest AS MATERIALIZED (
            SELECT e.product_id, {distance} AS distance,
                   p.sku, p.category_id, p.brand, p.price
            FROM search_productembedding e
            JOIN catalog_product p ON p.id = e.product_id
            LEFT JOIN catalog_category c ON c.id = p.category_id
            WHERE e.index_id = {index_id} AND {where}
            ORDER BY {distance}
            LIMIT %(limit)s
        )
        SELECT product_id, 1 - distance, sku, category_id, brand, price
        FROM nearest ORDER BY distance
    """
)


@lru_cache(maxsize=64)
def _nearest_statement(dims: int, index_id: int, shape: FilterShape) -> str:
    # Cosine distance to the query, as the index's HNSW index computes it.
    distance = sql.SQL("e.embedding::halfvec({dims}) <=> %(q)s::halfvec({dims})").format(
        dims=sql.Literal(dims)
    )
    return render(
        _NEAREST_SQL.format(
            distance=distance, index_id=sql.Literal(index_id), where=filter_clause(shape)
        )
    )


@lru_cache(maxsize=16)
def _similarities_statement(dims: int) -> str:
    return render(
        sql.SQL(
            "SELECT product_id, 1 - (embedding::halfvec({dims}) <=> %s::halfvec({dims}))"
            " FROM search_productembedding WHERE index_id = %s AND product_id = ANY(%s)"
        ).format(dims=sql.Literal(dims))
    )


def vector_candidates(
    *,
    index: SearchIndex,
    query_vector: np.ndarray,
    limit: int,
    filters: SearchFilters | None = None,
    ef_search: int | None = None,
) -> list[Candidate]:
    """Nearest active products to the query in this index, best first. `ef_search`: the
    HNSW scan's list (default settings.SEARCH_HNSW_EF_SEARCH).

    With filters, pgvector 0.8's iterative index scan keeps walking the HNSW graph until
    `limit` rows pass the filter (bounded by HNSW_MAX_SCAN_TUPLES), instead of returning
    the few of the first ef_search neighbours that happen to match."""
    require_index(index)  # a replica behind the index switch: the primary answers
    dims = int(index.dims)
    if query_vector.shape[-1] != dims:
        raise ValueError(f"query has {query_vector.shape[-1]} dims, index has {dims}")
    shape, params = filter_values(filters)
    query = _nearest_statement(dims, int(index.pk), shape)
    params.update(q=halfvec_literal(query_vector), limit=limit)
    gucs = {
        "hnsw.ef_search": str(ef_search or settings.SEARCH_HNSW_EF_SEARCH),
        "hnsw.iterative_scan": "relaxed_order" if filters else "off",
        "hnsw.max_scan_tuples": str(HNSW_MAX_SCAN_TUPLES),
    }
    return [
        Candidate(
            product_id=pid, retrieval_score=float(s), facet_row=FacetRow(*row), similarity=float(s)
        )
        for pid, s, *row in fetch_with_settings(gucs, query, params)
    ]


# How long a process keeps an index's mean vector (search.retrieval.counting reads a query's
# similarity to an average product from it). The mean of thousands of vectors moves slowly:
# an import shows within minutes, and each process pays one read of the index per period
# instead of any work per query.
MEAN_VECTOR_TTL_S = 600.0
# Up to this many vectors the mean is exact; beyond, it is the mean of a random sample of
# about this many (PostgreSQL's block sampling, the same sample while the table stands):
# with independent rows its error on a similarity would be the similarities' spread / 100,
# a thousandth or two (neighbouring rows make it somewhat more), and the read stays under
# ~0.1 s however large the catalog (a whole read costs ~7 us a vector: ~0.75 s at 100k).
MEAN_SAMPLE_ROWS = 10_000
_mean_vectors: dict[int, tuple[float, np.ndarray | None]] = {}


def mean_similarity(*, index: SearchIndex, query_vector: np.ndarray) -> float | None:
    """The query's cosine similarity to an average product of this index: the mean over
    its stored vectors, read as one dot product with their mean (the vectors are stored
    normalised, the query's too). None while the index holds no vector."""
    now = time.monotonic()
    since, mean = _mean_vectors.get(index.pk, (-math.inf, None))
    if now - since > MEAN_VECTOR_TTL_S:
        mean = _mean_vector(index)
        _mean_vectors[index.pk] = (now, mean)
    if mean is None or mean.shape[-1] != query_vector.shape[-1]:
        return None
    query = query_vector / (np.linalg.norm(query_vector) or 1.0)
    return float(np.dot(query, mean))


def _mean_vector(index: SearchIndex) -> np.ndarray | None:
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT avg(embedding)::text FROM search_productembedding"
            " TABLESAMPLE SYSTEM (%s) REPEATABLE (0)"
            " WHERE index_id = %s AND embedding IS NOT NULL",
            [_sample_percent(cursor, MEAN_SAMPLE_ROWS), int(index.pk)],
        )
        (text,) = cursor.fetchone()
    return None if text is None else _parsed(text)


def sampled_vectors(*, index: SearchIndex, count: int) -> list[np.ndarray]:
    """Up to `count` stored vectors of this index, from a random sample of table blocks
    (ten rows read per vector wanted, at least a thousand, however large the catalog: a
    sample of a block or two may hold none)."""
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT embedding::text FROM search_productembedding TABLESAMPLE SYSTEM (%s)"
            " WHERE index_id = %s AND embedding IS NOT NULL ORDER BY random() LIMIT %s",
            [_sample_percent(cursor, max(10 * count, 1_000)), int(index.pk), count],
        )
        return [_parsed(text) for (text,) in cursor.fetchall()]


def _sample_percent(cursor, rows_wanted: int) -> float:
    """The TABLESAMPLE percentage that reads about `rows_wanted` vectors (all indexes'
    vectors share the table; the whole of it before the first ANALYZE)."""
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'search_productembedding'::regclass")
    rows = cursor.fetchone()[0]  # -1 before the first ANALYZE
    return 100.0 if rows <= rows_wanted else 100.0 * rows_wanted / rows


def _parsed(text: str) -> np.ndarray:
    """A vector from pgvector's text output ("[0.1,0.2,...]")."""
    return np.array(text[1:-1].split(","), dtype=np.float32)


def meaning_scale(
    *,
    index: SearchIndex,
    query_vector: np.ndarray,
    leg: Sequence[Candidate],
    filters: SearchFilters | None,
) -> tuple[float, float] | None:
    """(typical, best): the query's similarity to an average product of the index and to
    its nearest product, the scale search.retrieval.counting measures "close in meaning"
    on. Both are the whole catalog's, whatever the filters, so a filter only ever removes
    counted products (a facet's count is what choosing it shows). `leg`: the vector leg's
    candidates; unfiltered, its best is the nearest product, filtered it is not, and the
    nearest is one more (one-row) nearest-neighbour read. None without vectors."""
    typical = mean_similarity(index=index, query_vector=query_vector)
    similarities = [c.similarity for c in leg if c.similarity is not None]
    if filters:  # the approximate nearest: never below what the filtered leg found
        similarities.append(_nearest_similarity(index, query_vector))
    best = max((s for s in similarities if s is not None), default=None)
    if typical is None or best is None:
        return None
    return typical, best


# The search list of the one-row read of `_nearest_similarity`: pgvector's default. The floor
# needs the best similarity, not the best product: where a short list misses the nearest
# product it finds a near duplicate of it, a hair less similar, at a third of the leg's cost
# at 100k (1.8 against 6 ms; docs/BENCHMARKS.md, the ef_search curve).
NEAREST_EF_SEARCH = 40


def _nearest_similarity(index: SearchIndex, query_vector: np.ndarray) -> float | None:
    """The similarity of the query's nearest active product, whatever the filters."""
    shape, params = filter_values(None)
    params.update(q=halfvec_literal(query_vector), limit=1)
    gucs = {"hnsw.ef_search": str(NEAREST_EF_SEARCH), "hnsw.iterative_scan": "off"}
    statement = _nearest_statement(int(index.dims), int(index.pk), shape)
    rows = fetch_with_settings(gucs, statement, params)
    return float(rows[0][1]) if rows else None


def dense_similarities(
    *, index: SearchIndex, query_vector: np.ndarray, product_ids: Sequence[int]
) -> dict[int, float]:
    """Cosine similarity of the query to each of these products' stored vectors in this
    index (products without one are left out). Used to score keyword matches that the vector
    leg's top list did not reach: each is one row read by primary key, no graph walk."""
    if not product_ids:
        return {}
    query = _similarities_statement(int(index.dims))
    with read_connection().cursor() as cursor:
        cursor.execute(query, [halfvec_literal(query_vector), int(index.pk), list(product_ids)])
        return {pid: float(similarity) for pid, similarity in cursor.fetchall()}
