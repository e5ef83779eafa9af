"""The keyword leg's side of the index: each product's weighted tsvector and trigram keywords,
the vocabulary "did you mean" corrects to, and the word statistics (idf). Plain SQL, no
model: cheap enough to run on every product change and for the whole catalog in `reindex`."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

from catalog.models import Product
from search.documents import DOCUMENT_MAX_CHARS
from search.indexing.suggestions import refresh_product_suggestions, refresh_suggestions

# ts_rank's weights for the document's D, C, B and A parts (description, attributes,
# brand/category, name/SKU): the keyword leg scores with them, and each word's impact below
# is its score with them.
FIELD_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"

# A text's trigrams (pg_trgm's own, as word_similarity reads them) as a sparse 0/1 vector, each
# trigram at a position taken from its md5 (stable across PostgreSQL versions, unlike
# hashtext; 2^20 positions, so two trigrams of one text share one about once in 20,000
# texts). The keyword leg's near-miss score is then one sparse dot product a row: the share
# of the query's trigrams the name/brand/SKU holds (search.retrieval.lexical).
TRIGRAM_POSITIONS = 1 << 20
TRIGRAMS_SQL = (
    "coalesce((SELECT ('{{' || string_agg(h::text || ':1', ',' ORDER BY h) || '}}/"
    + str(TRIGRAM_POSITIONS)
    + "') FROM (SELECT DISTINCT ('x' || left(md5(t), 5))::bit(20)::int + 1 AS h"
    "       FROM unnest(show_trgm({text})) AS t) AS z), '{{}}/"
    + str(TRIGRAM_POSITIONS)
    + "')::sparsevec"
)

_REFRESH_LEXICAL_SQL = (
    """
INSERT INTO search_lexicaldocument (product_id, document, keywords, trigrams, updated_at)
SELECT k.product_id, k.document, k.keywords, """
    + TRIGRAMS_SQL.format(text="k.keywords")
    + """, now()
FROM (
SELECT p.id AS product_id,
       setweight(to_tsvector('english', p.name), 'A')
    || setweight(to_tsvector('simple', p.sku), 'A')
    || setweight(to_tsvector('english', p.brand || ' '
                 || translate(coalesce(c.path, ''), '/-', '  ')), 'B')
    || setweight(jsonb_to_tsvector('english', p.attributes, '["string", "numeric"]'), 'C')
    || setweight(to_tsvector('english', left(p.description, %(max_chars)s)), 'D') AS document,
       lower(p.name || ' ' || p.brand || ' ' || p.sku) AS keywords
FROM catalog_product p
LEFT JOIN catalog_category c ON c.id = p.category_id
WHERE p.id = ANY(%(ids)s)
) AS k
ON CONFLICT (product_id) DO UPDATE
SET document = EXCLUDED.document, keywords = EXCLUDED.keywords, trigrams = EXCLUDED.trigrams,
    updated_at = EXCLUDED.updated_at
-- (a product re-embedded with its words unchanged - a model switch, a price edit - keeps its
-- row, and its impacts and vocabulary are not rewritten)
WHERE search_lexicaldocument.document IS DISTINCT FROM EXCLUDED.document
   OR search_lexicaldocument.keywords IS DISTINCT FROM EXCLUDED.keywords
   OR search_lexicaldocument.trigrams IS NULL
RETURNING product_id
"""
)

# Each word of the documents with its impact (search.models.LexicalImpact): the document's
# score for that word alone, the same expression the keyword leg scores a query word with.
_DELETE_IMPACTS_SQL = "DELETE FROM search_lexicalimpact WHERE product_id = ANY(%(ids)s)"
_REFRESH_IMPACTS_SQL = """
INSERT INTO search_lexicalimpact (product_id, lexeme, impact)
SELECT l.product_id, d.lexeme,
       ts_rank(%(weights)s::real[], l.document, quote_literal(d.lexeme)::tsquery, 1)
FROM search_lexicaldocument l, unnest(l.document) d
WHERE l.product_id = ANY(%(ids)s)
"""

# Words shoppers may misspell: letters-only words of names and brands, 3 to 40 characters.
_REFRESH_VOCABULARY_SQL = """
INSERT INTO search_vocabularyword (word)
SELECT DISTINCT w
FROM search_lexicaldocument l,
     regexp_split_to_table(l.keywords, '[^[:alpha:]]+') AS w
WHERE l.product_id = ANY(%(ids)s) AND length(w) BETWEEN 3 AND 40
ON CONFLICT (word) DO NOTHING
"""


def refresh_lexical(*, product_ids: Sequence[int]) -> None:
    """Rebuild the keyword-search rows of these products and their words' impacts (cheap; no
    model; the impacts and vocabulary of products whose words did not change are left as
    they are). One transaction: a search never sees a product between its old and new words."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _REFRESH_LEXICAL_SQL,
            {"ids": list(product_ids), "max_chars": DOCUMENT_MAX_CHARS * 4},
        )
        changed = [row[0] for row in cursor.fetchall()]
        if changed:
            cursor.execute(_DELETE_IMPACTS_SQL, {"ids": changed})
            cursor.execute(_REFRESH_IMPACTS_SQL, {"ids": changed, "weights": FIELD_WEIGHTS})
            cursor.execute(_REFRESH_VOCABULARY_SQL, {"ids": changed})
    # (every one: a product made inactive keeps its words but leaves the search box)
    refresh_product_suggestions(product_ids=product_ids)


def refresh_lexeme_stats() -> int:
    """Recount in how many keyword documents each word occurs (one scan of the documents;
    run by reindex and by the periodic sweeper, not per product). Returns the word count."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_lexemestat")
        cursor.execute(
            "INSERT INTO search_lexemestat (lexeme, ndoc)"
            " SELECT word, ndoc FROM ts_stat('SELECT document FROM search_lexicaldocument')"
        )
        words = cursor.rowcount
        cursor.execute(
            "INSERT INTO search_lexemestat (lexeme, ndoc)"
            " SELECT '', count(*) FROM search_lexicaldocument"
        )
    return words


def refresh_all_lexical(*, chunk_size: int = 5000) -> int:
    """Rebuild every product's keyword document; returns how many."""
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), chunk_size):
        refresh_lexical(product_ids=ids[start : start + chunk_size])
    refresh_lexeme_stats()
    refresh_suggestions()
    return len(ids)
