"""Typo correction: a query word no product holds, replaced by the catalog's word it most
likely meant ("snekers" -> "sneakers", "tshirt" -> "t-shirt").

Why a word is corrected, and why the correction is searched rather than only suggested: a
word no keyword document holds can only reach products through the keyword leg's trigram
near-misses, which match names letter by letter ("snekers" found a blazer and a waistcoat
first); the vector leg reads the misspelt word as different word pieces. A correction within
one slip restores both legs, and searching "original OR correction" would add nothing, since
the original matches no document. So:

- a word is left alone when it is known: a stop word, a word of some product's name, brand or
  SKU (the vocabulary), or a word some keyword document holds in any form (the product's
  words, attributes and description; "sneaker" for "sneakers"). A SKU, a brand the catalog
  has, a number and a word that matches products are therefore never corrected; nor is any
  token holding a digit, nor a word under MIN_WORD_LENGTH letters.
- an unknown word's candidates are the catalog's words one slip away (every deletion,
  transposition, substitution and insertion, looked up at once), its splits into two known
  words ("tshirt" -> "t-shirt" where products say "t-shirt", "tshirt" -> "t shirt" where
  they hold both words), and the vocabulary's nearest words by trigram similarity (a second
  slip: searched in words of LONG_WORD letters or more, only suggested in shorter ones).
- each candidate costs its keyboard-aware edit distance: the slips people make most (a
  neighbouring key, two letters swapped, a letter doubled or a double dropped) cost less
  than an arbitrary edit; the cheapest candidate wins, common words breaking near-ties (the
  noisy-channel idea: how likely the slip, how likely the word).
- the correction is searched (`Correction.confident`) when every corrected word is within
  one slip (two in a long word); a farther candidate is only suggested ("did you mean").

Two round trips at most, on the search read path: one asks which words are known (every
query); only a query with an unknown word asks for candidates."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction

from search.query import SearchRequest
from search.replicas import read_alias, read_connection

MIN_WORD_LENGTH = 4  # shorter words have too many one-slip neighbours to say which was meant
# Longer "words" are not words a shopper misspelt ("xxxx..." pasted 500 times): their slips and
# splits are thousands of lookups, seconds of a search, for nothing.
MAX_WORD_LENGTH = 40
LONG_WORD = 8  # words this long may hold a second slip and still be recognisable
MAX_WORDS = 8  # words of a query looked at
ONE_SLIP = 1.0  # the most a confident correction of a word may cost...
TWO_SLIPS = 2.0  # ...and of a long word; a dearer candidate is only suggested
# A suggestion ("did you mean") needs at least this trigram similarity to the typed word.
SIMILARITY_THRESHOLD = 0.3
TRIGRAM_CANDIDATES = 10  # nearest vocabulary words looked at per unknown word
# Cost taken off per e-fold of the documents holding a candidate with the query's other
# words: a slip is rarer than a word being common, so 0.15 (a neighbouring key against an
# arbitrary edit is worth about a 15-fold difference in support).
FREQUENCY_WEIGHT = 0.15
CONTEXT_CAP = 1000  # documents counted per candidate, at most
CANDIDATES_PER_WORD = 6  # cheapest candidates of each word whose support is counted

# The cost of each kind of slip (Damerau's four, weighted as people type).
NEIGHBOUR_KEY = 0.6
TRANSPOSED = 0.7
DOUBLED = 0.6  # a letter typed twice, or a double letter typed once
JOINED = 0.2  # a space or hyphen left out ("tshirt" for "t-shirt"): every letter is right
OTHER_EDIT = 1.0

_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"^[a-z]+$")


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    """Letters next to each other on a QWERTY keyboard (same row; the row above at the same
    and the next position, the row below at the same and the previous one)."""
    where = {ch: (r, c) for r, row in enumerate(_KEY_ROWS) for c, ch in enumerate(row)}
    near: dict[str, set[str]] = {ch: set() for ch in where}
    for a, (r1, c1) in where.items():
        for b, (r2, c2) in where.items():
            if a != b and (
                (r1 == r2 and abs(c1 - c2) == 1)
                or (r2 == r1 - 1 and c2 - c1 in (0, 1))
                or (r2 == r1 + 1 and c2 - c1 in (-1, 0))
            ):
                near[a].add(b)
                near[b].add(a)
    return {ch: frozenset(keys) for ch, keys in near.items()}


NEIGHBOURS = _keyboard_neighbours()


def slip_cost(typed: str, meant: str) -> float:
    """Keyboard-aware Damerau-Levenshtein distance (optimal string alignment) from the word
    meant to the word typed; a space or hyphen of a split counts as one letter."""
    n, m = len(typed), len(meant)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = float(i)
    for j in range(m + 1):
        d[0][j] = float(j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a, b = typed[i - 1], meant[j - 1]
            if a == b:
                substitute = 0.0
            elif b in NEIGHBOURS.get(a, ()):
                substitute = NEIGHBOUR_KEY
            else:
                substitute = OTHER_EDIT
            # an extra letter typed: cheap when it repeats the one before (a doubled key)
            extra = DOUBLED if i > 1 and typed[i - 2] == a else OTHER_EDIT
            # a letter left out: cheap when it was the second of a double
            missing = DOUBLED if j > 1 and meant[j - 2] == b else OTHER_EDIT
            if b in " -":
                missing = JOINED
            best = min(d[i - 1][j - 1] + substitute, d[i - 1][j] + extra, d[i][j - 1] + missing)
            if i > 1 and j > 1 and a == meant[j - 2] and typed[i - 2] == b and a != b:
                best = min(best, d[i - 2][j - 2] + TRANSPOSED)
            d[i][j] = best
    return d[n][m]


def one_slip_away(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return (deletes | transposes | replaces | inserts) - {word}


@dataclass(frozen=True)
class Correction:
    """A query with its misspelt words replaced. `confident`: search it (and say so);
    otherwise only suggest it. `words`: (typed, replacement) for each replaced word."""

    query: str
    words: tuple[tuple[str, str], ...]
    confident: bool


_KNOWN_SQL = """
SELECT w,
       numnode(plainto_tsquery('english', w)) = 0
       OR EXISTS (SELECT 1 FROM search_vocabularyword v WHERE v.word = w)
       OR EXISTS (SELECT 1 FROM search_lexicaldocument l
                  WHERE l.document @@ plainto_tsquery('english', w))
FROM unnest(%(words)s::text[]) AS w
"""

# Candidates with how many keyword documents hold them (their stem; 0 until the word
# statistics exist): vocabulary words among the one-slip strings; two-word splits with both
# halves in the vocabulary; hyphenated splits some document holds ("t-shirt"); and for long
# the vocabulary's nearest words by trigram similarity.
_CANDIDATES_SQL = """
WITH c AS (
    SELECT e.typed, v.word AS candidate
    FROM unnest(%(edit_typed)s::text[], %(edits)s::text[]) AS e(typed, word)
    JOIN search_vocabularyword v ON v.word = e.word
    UNION
    SELECT s.typed, s.head || ' ' || s.tail
    FROM unnest(%(split_typed)s::text[], %(heads)s::text[], %(tails)s::text[])
         AS s(typed, head, tail)
    WHERE length(s.head) >= 3 AND length(s.tail) >= 3
      AND EXISTS (SELECT 1 FROM search_vocabularyword v WHERE v.word = s.head)
      AND EXISTS (SELECT 1 FROM search_vocabularyword v WHERE v.word = s.tail)
    UNION
    SELECT s.typed, s.head || '-' || s.tail
    FROM unnest(%(split_typed)s::text[], %(heads)s::text[], %(tails)s::text[])
         AS s(typed, head, tail)
    JOIN search_lexemestat st
      ON st.lexeme = coalesce((ts_lexize('english_stem', s.head || '-' || s.tail))[1],
                              s.head || '-' || s.tail)
    WHERE st.ndoc > 0
    UNION
    SELECT t.typed, near.word
    FROM unnest(%(near_typed)s::text[]) AS t(typed)
    CROSS JOIN LATERAL (
        SELECT v.word FROM search_vocabularyword v
        WHERE v.word %% t.typed
        ORDER BY similarity(v.word, t.typed) DESC, v.word
        LIMIT %(near)s
    ) near
)
SELECT c.typed, c.candidate, similarity(c.candidate, c.typed) FROM c
"""

# How many keyword documents (up to CONTEXT_CAP) hold each candidate (as a phrase: "pan dex"
# is not "pandex") with every other word of the query, and with any of them; the candidate
# alone in a one-word query. "jura rinder" means "jura grinder", not "jura finder"; "baby
# hower gifts" means "baby shower gifts". A stop word is never a candidate.
_CONTEXT_SQL = """
WITH ctx AS (
    SELECT plainto_tsquery('english', %(others)s) AS every,
           coalesce(nullif(replace(plainto_tsquery('english', %(others)s)::text, ' & ', ' | '),
                           ''), '')::tsquery AS some
), c AS (
    SELECT typed, candidate, phraseto_tsquery('english', candidate) AS q
    FROM unnest(%(typed)s::text[], %(candidates)s::text[]) AS c(typed, candidate)
)
SELECT c.typed, c.candidate,
       (SELECT count(*) FROM (
            SELECT 1 FROM search_lexicaldocument l
            WHERE l.document @@ (c.q && ctx.every) LIMIT %(cap)s) AS held),
       (SELECT count(*) FROM (
            SELECT 1 FROM search_lexicaldocument l
            WHERE l.document @@ CASE WHEN numnode(ctx.some) = 0 THEN c.q
                                     ELSE c.q && ctx.some END
            LIMIT %(cap)s) AS held)
FROM c CROSS JOIN ctx
WHERE numnode(c.q) > 0
"""


def _words(query: str) -> list[str]:
    """The query's words that may be corrected: tokens of letters only (a token holding a
    digit or other signs — a SKU, a size, a number — is left as typed), of at most
    MAX_WORD_LENGTH letters."""
    found = []
    for token in _TOKEN.findall(query.lower()):
        token = token.strip("\"'.,;:!?()")
        if _WORD.match(token) and len(token) <= MAX_WORD_LENGTH and token not in found:
            found.append(token)
    return found[:MAX_WORDS]


def correct_query(query: str) -> Correction | None:
    """The query with its unknown words corrected (see the module's notes), or None when
    every word is known or no unknown word has a candidate."""
    words = _words(query)
    if not words:
        return None
    with read_connection().cursor() as cursor:  # (most queries: one statement, no transaction)
        cursor.execute(_KNOWN_SQL, {"words": words})
        unknown = [w for w, known in cursor.fetchall() if not known and len(w) >= MIN_WORD_LENGTH]
    if not unknown:
        return None
    with transaction.atomic(using=read_alias()), read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(SIMILARITY_THRESHOLD)],
        )
        cursor.execute(_CANDIDATES_SQL, _candidate_params(unknown))
        rows = cursor.fetchall()
        # candidates within the slips a word may hold, or close enough to suggest
        scored: list[tuple[str, str, float]] = []
        for typed, candidate, similarity in rows:
            cost = slip_cost(typed, candidate)
            if cost <= _allowed(typed) or similarity >= SIMILARITY_THRESHOLD:
                scored.append((typed, candidate, cost))
        scored.sort(key=lambda row: (row[0], row[2], row[1]))
        kept = _cheapest(scored)
        if not kept:
            return None
        cursor.execute(_CONTEXT_SQL, _context_params(kept, words, unknown))
        support = {(typed, cand): (every, some) for typed, cand, every, some in cursor.fetchall()}
    best: dict[str, tuple[float, str, bool]] = {}
    for typed, candidate, cost in kept:
        if (typed, candidate) not in support:
            continue  # a stop word
        every, some = support[typed, candidate]
        # one-word queries: both counts are the candidate's own, counted once
        held = math.log1p(some) + (math.log1p(every) if len(words) > len(unknown) else 0.0)
        score = cost - FREQUENCY_WEIGHT * held
        if typed not in best or (score, candidate) < best[typed][:2]:
            best[typed] = (score, candidate, cost <= _allowed(typed))
    if not best:
        return None
    replaced = tuple((typed, best[typed][1]) for typed in unknown if typed in best)
    corrected = _TOKEN.sub(lambda m: _replace(m.group(0), best), query.lower())
    return Correction(
        query=corrected,
        words=replaced,
        confident=all(best[typed][2] for typed, _ in replaced),
    )


def _replace(token: str, best: dict[str, tuple[float, str, bool]]) -> str:
    core = token.strip("\"'.,;:!?()")
    if core not in best:
        return token
    return token.replace(core, best[core][1], 1)


def _allowed(typed: str) -> float:
    return TWO_SLIPS if len(typed) >= LONG_WORD else ONE_SLIP


def _cheapest(scored: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """The CANDIDATES_PER_WORD cheapest candidates of each word (`scored` sorted by word
    and cost)."""
    kept: list[tuple[str, str, float]] = []
    taken: dict[str, int] = {}
    for row in scored:
        if taken.get(row[0], 0) < CANDIDATES_PER_WORD:
            kept.append(row)
            taken[row[0]] = taken.get(row[0], 0) + 1
    return kept


def _context_params(
    kept: list[tuple[str, str, float]], words: list[str], unknown: list[str]
) -> dict[str, object]:
    return {
        "others": " ".join(w for w in words if w not in unknown),
        "typed": [typed for typed, _, _ in kept],
        "candidates": [candidate for _, candidate, _ in kept],
        "cap": CONTEXT_CAP,
    }


def _candidate_params(unknown: list[str]) -> dict[str, object]:
    edit_typed, edits, split_typed, heads, tails = [], [], [], [], []
    for word in unknown:
        for edit in one_slip_away(word):
            edit_typed.append(word)
            edits.append(edit)
        for i in range(1, len(word)):
            split_typed.append(word)
            heads.append(word[:i])
            tails.append(word[i:])
    return {
        "edit_typed": edit_typed,
        "edits": edits,
        "split_typed": split_typed,
        "heads": heads,
        "tails": tails,
        "near_typed": unknown,
        "near": TRIGRAM_CANDIDATES,
    }


def corrected_request(request: SearchRequest) -> tuple[SearchRequest, str | None, str | None]:
    """The request to rank: its query corrected when a confident correction exists and the
    shopper did not ask for the words as typed (`correct=false`), with the corrected text;
    else the request unchanged and None. Third, the "did you mean" for a search whose keyword
    leg runs (the vector mode has none): the correction not searched (the shopper asked for
    the words as typed, or it was too far to search). One look at the query's words for
    both."""
    if not request.query:
        return request, None, None
    applies = request.correct and settings.SEARCH_TYPO_CORRECTION
    if not applies and request.mode == "vector":
        return request, None, None
    correction = correct_query(request.query)
    if correction is None or correction.query == request.query.lower():
        return request, None, None
    if applies and correction.confident:
        return replace(request, query=correction.query), correction.query, None
    return request, None, None if request.mode == "vector" else correction.query


def correction_notice(*, typed: str, corrected: str) -> str:
    """What a corrected search says (the API's notice; the storefront shows it as a banner
    with a link that searches the words as typed)."""
    return f"Showing results for {corrected!r}; search instead for {typed!r} with correct=false."
