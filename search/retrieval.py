"""Candidate retrieval legs. Raw SQL where the planner must see exactly what the HNSW
index was built on (`embedding::halfvec(dims)` + `index_id = N`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from search.models import SearchIndex


@dataclass(frozen=True)
class Candidate:
    product_id: int
    retrieval_score: float  # cosine similarity for the vector leg


def _halfvec_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(x):.6g}" for x in vector) + "]"


def vector_candidates(
    *, index: SearchIndex, query_vector: np.ndarray, limit: int
) -> list[Candidate]:
    """Nearest active products to the query in this index, best first."""
    dims = int(index.dims)
    if query_vector.shape[-1] != dims:
        raise ValueError(f"query has {query_vector.shape[-1]} dims, index has {dims}")
    sql = f"""
        SELECT e.product_id, 1 - (e.embedding::halfvec({dims}) <=> %(q)s::halfvec({dims})) AS score
        FROM search_productembedding e
        JOIN catalog_product p ON p.id = e.product_id
        WHERE e.index_id = %(index)s AND p.active
        ORDER BY e.embedding::halfvec({dims}) <=> %(q)s::halfvec({dims})
        LIMIT %(limit)s
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL lasts for this transaction only: pooled connections stay clean.
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true)", [str(settings.SEARCH_HNSW_EF_SEARCH)]
        )
        cursor.execute(
            sql, {"q": _halfvec_literal(query_vector), "index": index.pk, "limit": limit}
        )
        return [
            Candidate(product_id=pid, retrieval_score=float(score))
            for pid, score in cursor.fetchall()
        ]
