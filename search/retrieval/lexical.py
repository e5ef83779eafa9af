"""The keyword leg: products matching the query's words (weighted tsvector, idf-weighted),
near-misses of name/brand/SKU by trigram similarity ("sneakrs", "iphone 1"), exact SKU or
brand matches first.

One statement the planner sees whole (`document @@ tsquery`, `keywords %> q`, as the GIN
indexes were built), composed with psycopg.sql: the filters, the per-word score and the
rarer-words narrowing are pieces of SQL with placeholders; every value is a parameter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from django.conf import settings
from psycopg import sql

from search.indexing.lexical import FIELD_WEIGHTS, TRIGRAMS_SQL
from search.query import SearchFilters
from search.replicas import read_connection
from search.retrieval.counting import matches_words
from search.retrieval.filters import FilterShape, filter_clause, filter_values
from search.retrieval.statement import fetch_with_settings, render
from search.types import Alternative, Candidate, FacetRow

# pg_trgm's word similarity a near-miss needs to match (its own default is 0.6): 0.5 lets
# one typo in a short word through ("sneakrs", "iphnoe") without matching unrelated words.
# The relevance figures in docs/BENCHMARKS.md were measured with it.
TRIGRAM_THRESHOLD = 0.5

# How much a synonym's match weighs beside a match of the words typed (search.merchandising):
# a product holding "trainers" for "sneakers" ranks a little below one holding "sneakers".
SYNONYM_WEIGHT = 0.8

_FIELD_WEIGHTS = sql.Literal(FIELD_WEIGHTS)

_LEXICAL_SQL = sql.SQL(
    """
WITH q AS (
    SELECT websearch_to_tsquery('english', %(q)s) AS strict,
           -- any query word may match ("aa batteries 100 pack" must not need all four);
           -- documents matching more words still rank higher.
           coalesce(nullif(replace(websearch_to_tsquery('english', %(q)s)::text, ' & ', ' | '), ''),
                    '')::tsquery AS loose,
           lower(%(q)s) AS text,
           {query_trigrams} AS trigrams
),
-- First stage: the full score below costs a trigram similarity and a ts_rank per query word
-- for every row, and a common word ("black") matches a third of a big catalog. So each
-- branch of the match keeps its best %(first_stage)s rows (exact SKU/brand first): word
-- matches by the score's word part (read from each word's impact list, or scored over the
-- matching documents: see _WORD_BRANCH_*), trigram near-misses by their similarity, asked
-- only when a query word is one no product holds (a likely misspelling: every other word
-- is found by its own match).
matched AS MATERIALIZED (
    {word_branch}
    UNION
    -- Each branch has its own GIN index (the SKU is a word of the document), so no table scan.
    -- Near misses of the words no product holds (%(_unknown)s): the other words are found by
    -- the word branch, and a long query's every trigram would match half the catalog.
    (SELECT l.product_id
     FROM search_lexicaldocument l
     CROSS JOIN q
     JOIN catalog_product p ON p.id = l.product_id
     LEFT JOIN catalog_category c ON c.id = p.category_id
     WHERE %(trigram)s AND %(misspelt)s AND %(_unknown)s <%% l.keywords AND {where}
     ORDER BY (lower(p.sku) = q.text OR lower(p.brand) = q.text) DESC,
              word_similarity(%(_unknown)s, l.keywords) DESC, l.product_id
     LIMIT %(first_stage)s)
)
-- Second stage: the full score over those rows only.
SELECT l.product_id,
       {word_score}
         + ts_rank({weights}, l.document, q.strict, 1)
         + CASE WHEN %(trigram)s THEN {near_miss_score} ELSE 0 END AS score,
       (lower(p.sku) = q.text OR lower(p.brand) = q.text) AS exact,
       -- What the result count reads (search.retrieval.counting): which query words the
       -- product holds, whether it satisfies a phrase/negation/"or" query as written,
       -- and whether it is a trigram near miss (asked only when the query has a word no
       -- product holds; otherwise the planner drops it as constant false).
       {held_words} AS held_words,
       (NOT %(plain)s AND l.document @@ q.strict) AS satisfies_query,
       (%(trigram)s AND %(misspelt)s AND q.text <%% l.keywords) AS near_miss,
       p.sku, p.category_id, p.brand, p.price
FROM matched m
JOIN search_lexicaldocument l ON l.product_id = m.product_id
CROSS JOIN q
JOIN catalog_product p ON p.id = l.product_id
LEFT JOIN catalog_category c ON c.id = p.category_id
WHERE {where}  -- (the impact lists' products are filtered here)
ORDER BY exact DESC, score DESC, l.product_id
LIMIT %(limit)s
"""
)


# The word branch over every document matching a query word: exact, and what filtered
# queries, queries written with a phrase, negation or "or", and a catalog without impact
# lists use.
_WORD_BRANCH_MATCHING = sql.SQL(
    """(SELECT l.product_id
     FROM search_lexicaldocument l
     CROSS JOIN q
     JOIN catalog_product p ON p.id = l.product_id
     LEFT JOIN catalog_category c ON c.id = p.category_id
     WHERE {loose_match} {rarer_words} AND {where}
     ORDER BY (lower(p.sku) = q.text OR lower(p.brand) = q.text) DESC,
              {word_score} + ts_rank({weights}, l.document, q.strict, 1) DESC,
              l.product_id
     LIMIT %(first_stage)s)"""
)

# The word branch from impact lists (search.models.LexicalImpact): the top
# SEARCH_LEXICAL_FIRST_STAGE products of each query word's list (and of each synonym's words),
# summed per product as idf x impact (the score's word part, to the depth read), the best
# LISTED_RESCORED x limit sums kept for the full score. Index scans of a few thousand rows
# instead of a ts_rank per word for every product holding a common word. What it can miss: a
# product below every one of its words' list cuts that the full score would still lift
# into the results (by several words each just below a cut).
_WORD_BRANCH_LISTS = sql.SQL(
    """(SELECT x.product_id
     FROM (SELECT i.product_id
           FROM unnest(%(_lists)s::text[], %(_list_weights)s::float8[]) AS w(lexeme, weight)
           CROSS JOIN LATERAL (
               SELECT i.product_id, i.impact FROM search_lexicalimpact i
               WHERE i.lexeme = w.lexeme
               ORDER BY i.impact DESC, i.product_id
               LIMIT %(_list_depth)s) i
           GROUP BY i.product_id
           -- (rounded: a sum's last bits depend on the order it was added in, and products
           -- tied on their words must be cut by id, as the second stage orders ties; in
           -- float8, as a numeric cast of every sum cost more than the rest of the branch)
           ORDER BY round(sum(w.weight * i.impact) * 1e9) DESC, i.product_id
           LIMIT %(first_stage)s) x)"""
)


# How many rows the impact lists hand to the full score, per row returned: the full score adds
# the whole query's rank and the trigram similarity to the word part the lists summed, which
# reorders near the cut; twice as many as returned leaves that room at a fifth of the rows
# the matching branch scores. ESCI dev NDCG@10 was the same with 2x and 10x (docs/BENCHMARKS.md).
LISTED_RESCORED = 2

_TERMS_SQL = """
SELECT t.lexeme::text,
       CASE WHEN %(idf)s AND total.ndoc > 0
            THEN ln(1 + (total.ndoc - coalesce(s.ndoc, 0) + 0.5) / (coalesce(s.ndoc, 0) + 0.5))
            ELSE 1 END,
       coalesce(s.ndoc, 0),
       coalesce(total.ndoc, 0),
       -- a plain query: its words joined by AND (no "quoted phrase", -negation or "or")
       websearch_to_tsquery('english', %(q)s)::text !~ '[!|<]',
       -- nothing excluded (-word): a phrase or "or" reads the same lists as its words
       websearch_to_tsquery('english', %(q)s)::text !~ '!'
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
    nothing_excluded: bool


def _query_words(query: str, idf: bool) -> list[_QueryWord]:
    """The query's stemmed words with their weights and document counts. Each word weighs
    by its rarity (BM25's idf; 1 for every word until the statistics exist), so "pack" in
    "aa batteries 100 pack" counts for less than "batteries"."""
    with read_connection().cursor() as cursor:
        cursor.execute(_TERMS_SQL, {"q": query, "idf": idf})
        return [_QueryWord(*row) for row in cursor.fetchall()]


def _lexeme(i: int) -> sql.Composable:
    """Query word `i` (parameter `_lex<i>`) as a one-word tsquery, quoted by PostgreSQL."""
    return sql.SQL("quote_literal({})::tsquery").format(sql.Placeholder(f"_lex{i}"))


def _alternatives(i: int) -> sql.Composable:
    """The synonyms of query word `i` (parameter `_alt<i>`) as one tsquery."""
    return sql.SQL("{}::tsquery").format(sql.Placeholder(f"_alt{i}"))


def _word(i: int, alts: tuple[int, ...]) -> sql.Composable:
    """Query word `i`, or any of its synonyms when it has some."""
    if i not in alts:
        return _lexeme(i)
    return sql.SQL("({} || {})").format(_lexeme(i), _alternatives(i))


def _word_score(words: int, alts: tuple[int, ...] = ()) -> sql.Composable:
    """The idf-weighted word part of the keyword score as one inline expression over the
    parameters `_idf<i>` and `_lex<i>` (the weights are read once per query, not computed
    per row). A word with synonyms scores its best of the word and its synonyms times
    `_altw<i>` (SYNONYM_WEIGHT, shared among the query words a synonym stands for: "phone
    case" for "iphone case" scores half of itself for each)."""
    parts = [
        sql.SQL("{idf} * ts_rank({weights}, l.document, {word}, 1)").format(
            idf=sql.Placeholder(f"_idf{i}"), weights=_FIELD_WEIGHTS, word=_lexeme(i)
        )
        if i not in alts
        else sql.SQL(
            "{idf} * greatest(ts_rank({weights}, l.document, {word}, 1),"
            " {syn} * ts_rank({weights}, l.document, {alt}, 1))"
        ).format(
            idf=sql.Placeholder(f"_idf{i}"),
            weights=_FIELD_WEIGHTS,
            word=_lexeme(i),
            syn=sql.Placeholder(f"_altw{i}"),
            alt=_alternatives(i),
        )
        for i in range(words)
    ]
    return sql.SQL("({})").format(sql.SQL(" + ").join(parts) if parts else sql.SQL("0"))


def _rarer_words(
    words: list[_QueryWord], first_stage: int, filters: SearchFilters | None
) -> tuple[int, ...] | None:
    """Which query words (their positions) to narrow the word branch to: documents holding
    one of the query's rarer words, when those alone match enough documents to fill the
    first stage ("navy blue shirts for men": not every product for men). Words in more than
    SEARCH_LEXICAL_COMMON_FRACTION of the catalog weigh little (their idf is low): a
    document holding only them ranks below the first stage's cut anyway, while scoring them
    cost most of the keyword leg on a big catalog. They still count in every score. Plain,
    unfiltered queries only (a -negated word must not become a requirement; within a brand
    or category the rarer words' counts say nothing); None when nothing is narrowed."""
    if filters or not words or not words[0].plain_query:
        return None
    limit = settings.SEARCH_LEXICAL_COMMON_FRACTION * words[0].catalog_size
    rarer = tuple(i for i, w in enumerate(words) if w.ndoc <= limit)
    if len(rarer) == len(words) or not rarer or max(words[i].ndoc for i in rarer) < first_stage:
        return None
    return rarer


def _held_words(words: int, alts: tuple[int, ...] = ()) -> sql.Composable:
    """Which query words a document holds, as the bits of one number: word `i` adds
    parameter `_bit<i>` (2**i) when the document holds it (`_lex<i>`) or one of its
    synonyms (so a synonym counts as the word it stands for)."""
    parts = [
        sql.SQL("{bit} * (l.document @@ {word})::int").format(
            bit=sql.Placeholder(f"_bit{i}"), word=_word(i, alts)
        )
        for i in range(words)
    ]
    return sql.SQL("({})").format(sql.SQL(" + ").join(parts) if parts else sql.SQL("0"))


@lru_cache(maxsize=256)
def _statement(
    shape: FilterShape,
    words: int,
    rarer: tuple[int, ...] | None,
    alts: tuple[int, ...] = (),
    lists: bool = False,
) -> str:
    """The keyword leg for filters of this shape, this many query words, narrowed to these
    rarer words (OR-ed by PostgreSQL, which folds them into one constant tsquery at planning,
    as a literal would be), these words having synonyms (none: the statement is the same as
    without synonyms at all), its word branch read from the impact lists or not."""
    where = filter_clause(shape)
    if lists:
        word_branch = _WORD_BRANCH_LISTS
    else:
        word_branch = _word_branch_matching(shape, words, rarer, alts)
    return render(
        _LEXICAL_SQL.format(
            query_trigrams=QUERY_TRIGRAMS,
            near_miss_score=NEAR_MISS_SCORE,
            word_branch=word_branch,
            where=where,
            word_score=_word_score(words, alts),
            held_words=_held_words(words, alts),
            weights=_FIELD_WEIGHTS,
        )
    )


# The near-miss part of the score: pg_trgm's similarity of the query to the product's
# name/brand/SKU (shared trigrams over all trigrams of the two), read from the stored trigram
# sets as one sparse dot product (~0.4 us a row; computing it, or the best-extent
# word_similarity it replaced, from the text costs ~25 us a row: most of the leg on a big
# catalog). A document stored before its trigrams were (none since migration 0013) falls
# back to word_similarity. docs/BENCHMARKS.md has both measures' ESCI figures.
# The query's trigram set, as the documents' are stored (its size is its squared norm).
QUERY_TRIGRAMS = sql.SQL(TRIGRAMS_SQL.format(text="lower(%(q)s)"))
NEAR_MISS_SCORE = sql.SQL(
    "coalesce(-(l.trigrams <#> q.trigrams)"
    " / greatest(l2_norm(q.trigrams) ^ 2 + l2_norm(l.trigrams) ^ 2 + (l.trigrams <#> q.trigrams),"
    " 1),"
    " word_similarity(q.text, l.keywords))"
)


def _word_branch_matching(
    shape: FilterShape, words: int, rarer: tuple[int, ...] | None, alts: tuple[int, ...]
) -> sql.Composable:
    narrowing = sql.SQL("")
    if rarer:
        narrowing = sql.SQL("AND l.document @@ ({})").format(
            sql.SQL(" || ").join(_word(i, alts) for i in rarer)
        )
    loose = sql.SQL("l.document @@ q.loose")
    if alts:  # a document holding only a synonym matches too
        loose = sql.SQL("l.document @@ (q.loose || {})").format(
            sql.SQL(" || ").join(_alternatives(i) for i in alts)
        )
    return _WORD_BRANCH_MATCHING.format(
        where=filter_clause(shape),
        word_score=_word_score(words, alts),
        rarer_words=narrowing,
        loose_match=loose,
        weights=_FIELD_WEIGHTS,
    )


def lexical_candidates(
    *,
    query: str,
    limit: int,
    filters: SearchFilters | None = None,
    synonyms: Sequence[Alternative] = (),
) -> list[Candidate]:
    """Products matching the query's words (stemmed, weighted by field), near-misses of the
    name/brand/SKU by trigram similarity ("sneakrs", "iphone 1"), and exact SKU or brand
    matches first. Each candidate says whether it matches the query's words as the result
    count means it (`matched`: search.retrieval.counting.matches_words). `synonyms`: other
    ways to say some of the words (search.merchandising.synonyms), matched like them and
    scored a little below them."""
    if not query.strip():
        return []
    shape, params = filter_values(filters)
    first_stage = max(limit, settings.SEARCH_LEXICAL_FIRST_STAGE)
    params.update(
        q=query,
        limit=limit,
        first_stage=first_stage,
        trigram=settings.SEARCH_LEXICAL_TRIGRAM,
    )
    words = _query_words(query, settings.SEARCH_LEXICAL_IDF)
    for i, word in enumerate(words):
        params[f"_lex{i}"], params[f"_idf{i}"] = word.lexeme, word.idf
    alts = _synonyms_of(words, synonyms, params)
    plain = not words or words[0].plain_query
    # A word no keyword document holds (once the statistics exist): likely a misspelling
    # (not when it has synonyms: the shop says it means something).
    misspelt = (
        any(w.ndoc == 0 and i not in alts for i, w in enumerate(words))
        or not words
        or words[0].catalog_size == 0
    )
    unknown = " ".join(w.lexeme for i, w in enumerate(words) if w.ndoc == 0 and i not in alts)
    params.update(plain=plain, misspelt=misspelt, _unknown=unknown or query.lower())
    params.update({f"_bit{i}": 1 << i for i in range(len(words))})
    gucs = {"pg_trgm.word_similarity_threshold": str(TRIGRAM_THRESHOLD)}
    rows = None
    if _reads_lists(words, filters):
        _list_params(words, synonyms, alts, params)
        params = {**params, "first_stage": LISTED_RESCORED * limit, "_list_depth": first_stage}
        statement = _statement(shape, len(words), None, alts, lists=True)
        # Each word's list is read by its index in impact order; a bitmap scan would read
        # every product holding the word, which is what the lists are there to avoid (the
        # planner's guess of a word's rows is the average word's). The trigram branch of a
        # misspelt query needs its bitmap scan.
        list_gucs = gucs if misspelt else {**gucs, "enable_bitmapscan": "off"}
        rows = fetch_with_settings(list_gucs, statement, params)
    if not rows:  # (and a catalog whose lists are not built yet finds what it holds)
        rarer = _rarer_words(words, first_stage, filters)
        rows = fetch_with_settings(gucs, _statement(shape, len(words), rarer, alts), params)
    idfs = [w.idf for w in words]

    @cache  # (a query's rows hold few distinct combinations of its words)
    def matched(held: int, satisfies: bool, near_miss: bool) -> bool:
        return matches_words(
            held=[bool(held >> i & 1) for i in range(len(words))],
            idfs=idfs,
            satisfies_query=satisfies,
            near_miss=near_miss,
            misspelt=misspelt,
        )

    return [
        Candidate(
            product_id=pid,
            retrieval_score=float(score),
            exact=bool(exact),
            facet_row=FacetRow(*row),
            matched=matched(int(held), bool(satisfies), bool(near_miss)),
        )
        for pid, score, exact, held, satisfies, near_miss, *row in rows
    ]


def _reads_lists(words: list[_QueryWord], filters: SearchFilters | None) -> bool:
    """Whether the word branch reads the impact lists: for an unfiltered query with words
    the catalog holds and none excluded (a filter keeps few of each list's products; a
    -word's list holds what must not be found). A "quoted phrase", an "or" and a hyphenated
    word ("t-shirts", a phrase to PostgreSQL) read their words' lists: the second stage
    scores and counts the candidates as the query is written."""
    return (
        settings.SEARCH_LEXICAL_IMPACT_LISTS
        and not filters
        and bool(words)
        and words[0].nothing_excluded
        and any(w.ndoc for w in words)
    )


def _list_params(
    words: list[_QueryWord], synonyms: Sequence[Alternative], alts: tuple[int, ...], params: dict
) -> None:
    """Which impact lists the word branch reads, and how much each weighs: each query word's
    by its idf, each of its synonyms' words by that idf times the synonym's weight."""
    weights: dict[str, float] = {}
    for i, word in enumerate(words):
        idf = float(word.idf)  # (numeric from SQL)
        weights[word.lexeme] = max(weights.get(word.lexeme, 0.0), idf)
        if i in alts:
            for alternative in synonyms:
                if word.lexeme in alternative.lexemes:
                    for lexeme in _tsquery_lexemes(alternative.tsquery):
                        weight = idf * params[f"_altw{i}"]
                        weights[lexeme] = max(weights.get(lexeme, 0.0), weight)
    params["_lists"], params["_list_weights"] = list(weights), list(weights.values())


def _tsquery_lexemes(tsquery: str) -> list[str]:
    """The lexemes of a tsquery's text as PostgreSQL writes it ('phone' <-> 'case')."""
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", tsquery)]


def _synonyms_of(
    words: list[_QueryWord], synonyms: Sequence[Alternative], params: dict
) -> tuple[int, ...]:
    """Which query words have synonyms; each one's as parameter `_alt<i>`, one tsquery text
    OR-ing the alternatives' phrase tsqueries (PostgreSQL's own text of each), and their
    weight `_altw<i>`."""
    alts = []
    lexemes = {w.lexeme for w in words}
    for i, word in enumerate(words):
        found = [a for a in synonyms if word.lexeme in a.lexemes]
        if found:
            tsqueries = dict.fromkeys(a.tsquery for a in found)
            params[f"_alt{i}"] = " | ".join(f"( {tsquery} )" for tsquery in tsqueries)
            shared = max(len(a.lexemes & lexemes) for a in found)
            params[f"_altw{i}"] = SYNONYM_WEIGHT / shared
            alts.append(i)
    return tuple(alts)
