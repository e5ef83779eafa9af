"""Synonyms: other ways to say a query's words, given to the keyword leg at query time (no
reindex).

A multi-way set ("sneakers, trainers, running shoes") lets each term find the others; a
one-way set ("iphone case" -> "phone case") lets its source find its terms only. A query is
matched word for word (lower case, punctuation aside, a plural "s" ignored), longest phrase
first; each matched phrase's alternatives are OR-ed into the keyword leg's tsquery as
phrases, scored a little below the words typed (search.retrieval.lexical), and a product
holding an alternative counts as holding the words it replaces (the result count).

Plain queries only: a query written with a "quoted phrase", -negation or "or" is searched
as written. The vector leg reads the query as typed (it knows the meanings already).

Writes go through `save_synonym_set` / `delete_synonym_set` / `import_csv`, which check
them (`SynonymsInvalid`, a message per field) and tell every process
(search.merchandising.versions)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from search.merchandising.models import SynonymSet
from search.merchandising.versions import ProcessCopy, changed
from search.types import Alternative

MAX_TERM_CHARS = 100
MAX_TERMS = 50  # per set
MAX_IMPORT_ROWS = 10_000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD = re.compile(r"\w+")
# websearch syntax: a query using it is searched as written (no synonyms).
_SYNTAX = re.compile(r'"|(^|\s)-\w|\s(or|OR)\s')


class SynonymsInvalid(ValueError):
    """A synonym set that cannot be saved as sent: `errors` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


# --- Checking what a merchandiser wrote -------------------------------------------------------


def normalise_term(term: str) -> str:
    """How a term is kept: lower case, single spaces."""
    return " ".join(term.lower().split())


def _term(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise SynonymsInvalid({field: ["each term must be text"]})
    if _CONTROL.search(value):
        raise SynonymsInvalid({field: [f"the term {value[:40]!r} holds control characters"]})
    term = normalise_term(value)
    if not term:
        raise SynonymsInvalid({field: ["a term may not be empty"]})
    if len(term) > MAX_TERM_CHARS:
        raise SynonymsInvalid({field: [f"a term is at most {MAX_TERM_CHARS} characters"]})
    if "," in term:
        raise SynonymsInvalid({field: [f"a term may not hold a comma ({term[:40]!r})"]})
    if not _WORD.search(term):
        raise SynonymsInvalid({field: [f"the term {term[:40]!r} has no letters or digits"]})
    return term


def _terms(values: object, field: str) -> list[str]:
    if not isinstance(values, list | tuple):
        raise SynonymsInvalid({field: ["give the terms as a list"]})
    if len(values) > MAX_TERMS:
        raise SynonymsInvalid({field: [f"a set holds at most {MAX_TERMS} terms"]})
    terms = [_term(v, field) for v in values]
    seen: set[tuple[str, ...]] = set()
    for term in terms:
        if _key(term) in seen:
            raise SynonymsInvalid({field: [f"the term {term!r} is given twice"]})
        seen.add(_key(term))
    return terms


@dataclass(frozen=True)
class SynonymFields:
    """A checked set: `source` empty for multi-way."""

    source: str
    terms: list[str]


def check_synonym_set(
    data: Mapping[str, Any], *, instance: SynonymSet | None = None
) -> SynonymFields:
    """`{"terms": [...]}` (multi-way, two terms at least) or `{"from": "...", "to": [...]}`
    (one-way). Raises SynonymsInvalid for an empty set, a set of one term, a duplicate term,
    control characters, an over-long term, unknown keys, and a one-way set that would make a
    circle with others (a -> b and b -> a: that is a multi-way set)."""
    if not isinstance(data, Mapping):
        raise SynonymsInvalid({"detail": ['send an object: {"terms": [...]} or {"from", "to"}']})
    unknown = sorted(set(data) - {"terms", "from", "to"})
    if unknown:
        raise SynonymsInvalid({k: ["unknown field"] for k in unknown})
    if "terms" in data and ("from" in data or "to" in data):
        raise SynonymsInvalid(
            {"detail": ["send either terms (multi-way) or from and to (one-way), not both"]}
        )
    if "terms" in data:
        terms = _terms(data["terms"], "terms")
        if len(terms) < 2:
            what = "is empty" if not terms else "has one term"
            raise SynonymsInvalid({"terms": [f"the set {what}: a synonym set needs two terms"]})
        return SynonymFields("", terms)
    if "from" not in data or "to" not in data:
        raise SynonymsInvalid({"detail": ["send terms (multi-way) or both from and to (one-way)"]})
    source = _term(data["from"], "from")
    targets = _terms(data["to"], "to")
    if not targets:
        raise SynonymsInvalid({"to": ["a one-way set needs at least one term to find"]})
    if _key(source) in {_key(t) for t in targets}:
        raise SynonymsInvalid({"to": [f"{source!r} would find itself"]})
    _refuse_circles(source, targets, instance)
    return SynonymFields(source, targets)


def _refuse_circles(source: str, targets: list[str], instance: SynonymSet | None) -> None:
    """A one-way set may not lead back to its source through others (a -> b, b -> a)."""
    edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    others = SynonymSet.objects.exclude(source="")
    if instance is not None and instance.pk:
        others = others.exclude(pk=instance.pk)
    for other in others.only("source", "terms"):
        edges.setdefault(_key(other.source), set()).update(_key(t) for t in other.terms)
    start = _key(source)
    stack, seen = [_key(t) for t in targets], set()
    while stack:
        node = stack.pop()
        if node == start:
            raise SynonymsInvalid(
                {
                    "to": [
                        f"circular: {source!r} -> {', '.join(targets)!s} while another one-way "
                        f"set leads back to {source!r}; words that find each other are one "
                        'multi-way set (send {"terms": [...]})'
                    ]
                }
            )
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))


# --- Writing ---------------------------------------------------------------------------------


def save_synonym_set(*, data: Mapping[str, Any], instance: SynonymSet | None = None) -> SynonymSet:
    """Check and save one set (a new one, or `instance` changed); every process sees it on
    its next search (within seconds)."""
    fields = check_synonym_set(data, instance=instance)
    with transaction.atomic():
        synonym_set = instance or SynonymSet()
        synonym_set.source, synonym_set.terms = fields.source, fields.terms
        synonym_set.save()
        changed(_compiled)
    return synonym_set


def delete_synonym_set(*, synonym_set: SynonymSet) -> None:
    with transaction.atomic():
        synonym_set.delete()
        changed(_compiled)


def synonym_set_data(synonym_set: SynonymSet) -> dict[str, Any]:
    """A set as the API shows it."""
    data: dict[str, Any] = {"id": synonym_set.pk}
    if synonym_set.source:
        data.update({"from": synonym_set.source, "to": list(synonym_set.terms)})
    else:
        data["terms"] = list(synonym_set.terms)
    return data


# --- CSV: one set per row, `from` (empty for multi-way) and `terms` (comma-separated) --------

CSV_HEADER = ["from", "terms"]


def export_csv(synonym_sets: Iterable[SynonymSet]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for s in synonym_sets:
        writer.writerow([s.source, ", ".join(s.terms)])
    return out.getvalue()


def import_csv(*, text: str) -> int:
    """Add the CSV's sets (as `export_csv` writes them) in one transaction: all of them, or
    none when a row is wrong (SynonymsInvalid names the row). A set the shop already has is
    skipped. Returns how many were added."""
    rows = list(csv.reader(io.StringIO(text)))
    if rows and [c.strip().lower() for c in rows[0]] == CSV_HEADER:
        rows = rows[1:]
    if len(rows) > MAX_IMPORT_ROWS:
        raise SynonymsInvalid({"file": [f"at most {MAX_IMPORT_ROWS} sets per file"]})
    existing = {(s.source, tuple(s.terms)) for s in SynonymSet.objects.all()}
    added = 0
    with transaction.atomic():
        for number, row in enumerate(rows, start=2 if text.lower().startswith("from") else 1):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise SynonymsInvalid({"file": [f"row {number}: give two columns, from and terms"]})
            source, terms = row[0], [t for t in row[1].split(",") if t.strip()]
            data = {"from": source, "to": terms} if source.strip() else {"terms": terms}
            try:
                fields = check_synonym_set(data)
            except SynonymsInvalid as exc:
                raise SynonymsInvalid({"file": [f"row {number}: {exc}"]}) from None
            if (fields.source, tuple(fields.terms)) in existing:
                continue
            SynonymSet.objects.create(source=fields.source, terms=fields.terms)
            existing.add((fields.source, tuple(fields.terms)))
            added += 1
        changed(_compiled)
    return added


# --- Applying them to a query ----------------------------------------------------------------


def _word_key(word: str) -> str:
    """A word as matching compares it: a plural "s" aside ("sneakers" ~ "sneaker")."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _key(text: str) -> tuple[str, ...]:
    return tuple(_word_key(w) for w in _WORD.findall(text.lower()))


@dataclass(frozen=True)
class _Term:
    text: str
    lexemes: frozenset[str]  # its stemmed words, as the keyword leg stems them
    tsquery: str  # the term as a phrase tsquery (PostgreSQL's text of it); "" for stop words


@dataclass(frozen=True)
class _Entry:
    set_id: int
    lexemes: frozenset[str]  # the stemmed words of the phrase a query matched
    alternatives: tuple[_Term, ...]


@dataclass(frozen=True)
class CompiledSynonyms:
    """phrase key -> what it also finds, with the longest phrase's length."""

    entries: dict[tuple[str, ...], tuple[_Entry, ...]]
    longest: int


@dataclass(frozen=True)
class AppliedSynonym:
    """One phrase of the query and what it also searched for (response's `applied_synonyms`)."""

    set_id: int
    matched: str  # the query's words it matched, as typed
    alternatives: tuple[str, ...]

    def data(self) -> dict[str, Any]:
        return {"id": self.set_id, "matched": self.matched, "alternatives": list(self.alternatives)}


@dataclass(frozen=True)
class Expansion:
    """What synonyms add to one query: for the keyword leg (`alternatives`), the response
    (`applied`) and the results cache's key (`key`)."""

    applied: tuple[AppliedSynonym, ...] = ()
    alternatives: tuple[Alternative, ...] = ()

    @property
    def key(self) -> tuple:
        return tuple((a.lexemes, a.tsquery) for a in self.alternatives)


NO_SYNONYMS = Expansion()

_TERMS_SQL = """
SELECT t, coalesce(tsvector_to_array(to_tsvector('english', t)), '{}'),
       phraseto_tsquery('english', t)::text
FROM unnest(%(terms)s::text[]) AS t
"""


def _load() -> CompiledSynonyms:
    """Every set, compiled: each term's lexemes and phrase tsquery read in one statement
    (from the primary: a replica's lag must not be kept for a whole version)."""
    sets = list(SynonymSet.objects.using(DEFAULT_DB_ALIAS).order_by("id"))
    if not sets:
        return CompiledSynonyms({}, 0)
    words = sorted({t for s in sets for t in [*s.terms, s.source] if t})
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_TERMS_SQL, {"terms": words})
        terms = {text: _Term(text, frozenset(lex), tsq) for text, lex, tsq in cursor.fetchall()}
    entries: dict[tuple[str, ...], list[_Entry]] = {}
    for s in sets:
        if s.source:
            pairs = [(s.source, s.terms)]
        else:
            pairs = [(t, [o for o in s.terms if o != t]) for t in s.terms]
        for phrase, others in pairs:
            alternatives = tuple(terms[o] for o in others if terms[o].tsquery)
            if alternatives and _key(phrase):
                entry = _Entry(s.pk, terms[phrase].lexemes, alternatives)
                entries.setdefault(_key(phrase), []).append(entry)
    longest = max((len(k) for k in entries), default=0)
    return CompiledSynonyms({k: tuple(v) for k, v in entries.items()}, longest)


_compiled: ProcessCopy[CompiledSynonyms] = ProcessCopy("synonyms", _load)


def forget_synonyms() -> None:
    """Tests: the tables were rolled back."""
    _compiled.forget()


def expand_query(query: str) -> Expansion:
    """The synonyms that apply to this query (none for a query written with search syntax),
    longest phrase first, left to right, phrases not overlapping."""
    compiled = _compiled.get()
    if not compiled.entries or not query or _SYNTAX.search(query):
        return NO_SYNONYMS
    words = _WORD.findall(query)
    keys = [_word_key(w.lower()) for w in words]
    applied: list[AppliedSynonym] = []
    alternatives: list[Alternative] = []
    i = 0
    while i < len(keys):
        for size in range(min(compiled.longest, len(keys) - i), 0, -1):
            found = compiled.entries.get(tuple(keys[i : i + size]))
            if found:
                matched = " ".join(words[i : i + size])
                for entry in found:
                    alts = entry.alternatives
                    applied.append(
                        AppliedSynonym(entry.set_id, matched, tuple(a.text for a in alts))
                    )
                    alternatives += [
                        Alternative(lexemes=entry.lexemes, tsquery=a.tsquery) for a in alts
                    ]
                i += size
                break
        else:
            i += 1
    return Expansion(tuple(applied), tuple(alternatives)) if applied else NO_SYNONYMS
