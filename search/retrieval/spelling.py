""" "Did you mean": misspelled query words replaced by the closest word of the catalog."""

from __future__ import annotations

import re

from django.db import transaction

from search.replicas import read_alias, read_connection

# A word is corrected to a vocabulary word at least this similar (pg_trgm's similarity, its
# own default): close enough for one or two typos in a word of five or more letters.
SIMILARITY_THRESHOLD = 0.3
MAX_WORDS = 8  # words of a query looked at: each costs up to two small queries
MIN_WORD_LENGTH = 4  # shorter words have too few trigrams to say which word was meant

_WORD = re.compile(r"[^\W\d_]+")


def spelling_suggestion(query: str) -> str | None:
    """The query with misspelled words replaced by the closest word of the catalog's names
    and brands ("sneakrs" -> "sneakers"), or None when every word is known."""
    words = _WORD.findall(query.lower())[:MAX_WORDS]
    if not words:
        return None
    replacements: dict[str, str] = {}
    with transaction.atomic(using=read_alias()), read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(SIMILARITY_THRESHOLD)],
        )
        for word in {w for w in words if len(w) >= MIN_WORD_LENGTH}:
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
    return _WORD.sub(lambda m: replacements.get(m.group(0), m.group(0)), query.lower())
