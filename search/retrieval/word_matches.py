"""Which of a query's words each product's keyword document holds, in which field, and the
query's near-miss similarity to its name/brand/SKU, as the keyword leg
(search.retrieval.lexical) scores them: what an explained ranking (search.explain) shows
for a page of products."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from psycopg import sql

from search.replicas import read_connection
from search.retrieval.lexical import NEAR_MISS_SCORE, QUERY_TRIGRAMS
from search.retrieval.statement import render

# Explaining a ranking (search.explain): which of the query's words, stemmed as the leg stems
# them, each product's keyword document holds, with the strongest field each is in, and the
# query's trigram similarity to its name, brand and SKU (the near-miss part of the score).
_MATCHED_WORDS_SQL = render(
    sql.SQL(
        """
WITH w AS (
    SELECT w.lexeme, w.positions[1] AS position
    FROM unnest(to_tsvector('english', %(q)s)) AS w
),
q AS (
    SELECT lower(%(q)s) AS text,
           {query_trigrams} AS trigrams
)
SELECT l.product_id,
       ARRAY(SELECT w.lexeme FROM unnest(l.document) d JOIN w ON w.lexeme = d.lexeme
             ORDER BY w.position),
       ARRAY(SELECT (SELECT min(x) FROM unnest(d.weights) x)
             FROM unnest(l.document) d JOIN w ON w.lexeme = d.lexeme ORDER BY w.position),
       CASE WHEN %(trigram)s THEN {near_miss_score} END
FROM search_lexicaldocument l
CROSS JOIN q
WHERE l.product_id = ANY(%(ids)s)
"""
    ).format(
        query_trigrams=QUERY_TRIGRAMS,
        near_miss_score=NEAR_MISS_SCORE,
    )
)

# The keyword document's weights (search.indexing.lexical) as the fields they hold.
FIELD_OF_WEIGHT = {"A": "name", "B": "brand or category", "C": "attributes", "D": "description"}


@dataclass(frozen=True)
class WordMatch:
    words: tuple[str, ...]  # the query's stemmed words the document holds, in query order
    fields: tuple[tuple[str, str], ...]  # (word, the strongest field it is in)
    trigram_similarity: float | None


def matched_words(*, query: str, product_ids: Sequence[int]) -> dict[int, WordMatch]:
    """For each of these products (a page: one statement), the query's words its keyword
    document holds (see WordMatch). Products without a keyword document are left out."""
    if not query.strip() or not product_ids:
        return {}
    params = {"q": query, "ids": list(product_ids), "trigram": settings.SEARCH_LEXICAL_TRIGRAM}
    with read_connection().cursor() as cursor:
        cursor.execute(_MATCHED_WORDS_SQL, params)
        rows = cursor.fetchall()
    return {
        pid: WordMatch(
            words=tuple(words),
            fields=tuple(
                (w, FIELD_OF_WEIGHT.get(weight, weight))
                for w, weight in zip(words, weights, strict=True)
            ),
            trigram_similarity=None if similarity is None else float(similarity),
        )
        for pid, words, weights, similarity in rows
    }
