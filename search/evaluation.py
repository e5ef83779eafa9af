"""Offline relevance evaluation: read judged queries, score rankings, average per mode.

Pure functions, no Django: `evaluate_search` (the management command) runs the queries
through `search_products` and hands the rankings here. The metrics themselves come from
`ir-measures` (trec_eval's implementation through pytrec_eval), not from code written here.

Conventions (docs/BENCHMARKS.md, "Relevance"):
- NDCG@10 uses the grades as gains (trec_eval's linear gain: ESCI 3 exact, 2 substitute,
  1 complement, 0 irrelevant) with the ideal ranking built from all judged products.
- Recall@50 and MRR@10 are binary: relevant = grade >= `RELEVANT_GRADE` (1, trec_eval's
  default "grade > 0": exact, substitute or complement). This is the convention of the
  reference points in ../shared/data/README.md (checked: their dense baseline recomputed
  here gives Recall@50 0.761 with grade >= 1 and 0.758 with grade >= 2; MRR@10 is the same
  either way on that run). `relevant_grade=2` gives the stricter "exact or substitute".
- A product with no judgment for a query is unknown and gains nothing (standard trec_eval;
  it is not removed from the ranking).
- Every judged query counts: a query the system returns nothing for scores 0, it is not
  silently dropped from the average.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ir_measures
from ir_measures import RR, R, nDCG

RELEVANT_GRADE = 1
"""Binary relevance for Recall and MRR by default: grade >= 1 (trec_eval's default)."""

METRIC_NAMES = ("ndcg@10", "recall@50", "mrr@10")
RANK_DEPTH = 50
"""How deep each ranking must go for every metric above to be measurable."""

Qrels = dict[str, dict[str, int]]  # qid -> sku -> grade
Rankings = Mapping[str, Sequence[str]]  # qid -> skus, best first
MetricScores = dict[str, float]  # metric name -> value


class TsvFormatError(ValueError):
    """A line of a queries/qrels file cannot be read; says which file and line."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{path}, line {line}: {reason}")


@dataclass(frozen=True)
class JudgedQuery:
    qid: str
    text: str


# --- Reading ---------------------------------------------------------------------------------


def _rows(path: Path | str) -> Iterable[tuple[int, list[str]]]:
    """(line number, tab-separated fields) of each non-blank line."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line.split("\t")


def read_queries(path: Path | str) -> list[JudgedQuery]:
    """`qid<TAB>query` per line; a header first line (`qid<TAB>query`, `query_id<TAB>text`,
    ...) is skipped. Raises TsvFormatError on a malformed line."""
    queries: list[JudgedQuery] = []
    seen: set[str] = set()
    first = True
    for number, fields in _rows(path):
        is_first, first = first, False
        if is_first and _is_query_header(fields):
            continue
        if len(fields) != 2:
            raise TsvFormatError(
                path, number, f"expected 2 tab-separated fields (qid, query), got {len(fields)}"
            )
        qid, text = fields[0].strip(), fields[1].strip()
        if not qid:
            raise TsvFormatError(path, number, "empty qid")
        if not text:
            raise TsvFormatError(path, number, f"empty query text for qid {qid!r}")
        if qid in seen:
            raise TsvFormatError(path, number, f"qid {qid!r} appears twice")
        seen.add(qid)
        queries.append(JudgedQuery(qid=qid, text=text))
    if not queries:
        raise TsvFormatError(path, 0, "no queries in the file")
    return queries


def _is_query_header(fields: list[str]) -> bool:
    names = [f.strip().lower() for f in fields]
    return len(names) == 2 and (
        names[0] in {"qid", "query_id", "query-id", "id"} or names[1] in {"query", "text"}
    )


def read_qrels(path: Path | str) -> Qrels:
    """`qid<TAB>sku<TAB>grade` per line (grade a non-negative integer). A first line whose
    grade is not a number is taken as the header. Raises TsvFormatError on anything else."""
    qrels: Qrels = {}
    first = True
    for number, fields in _rows(path):
        is_first, first = first, False
        if len(fields) != 3:
            raise TsvFormatError(
                path,
                number,
                f"expected 3 tab-separated fields (qid, sku, grade), got {len(fields)}",
            )
        qid, sku, raw_grade = (f.strip() for f in fields)
        try:
            grade = int(raw_grade)
        except ValueError:
            if is_first:
                continue  # header line, e.g. "qid  sku  grade"
            raise TsvFormatError(
                path, number, f"grade must be an integer, got {raw_grade!r}"
            ) from None
        if grade < 0:
            raise TsvFormatError(path, number, f"grade must be >= 0, got {grade}")
        if not qid or not sku:
            raise TsvFormatError(path, number, "empty qid or sku")
        judged = qrels.setdefault(qid, {})
        if sku in judged and judged[sku] != grade:
            raise TsvFormatError(path, number, f"{qid}/{sku} judged twice with different grades")
        judged[sku] = grade
    if not qrels:
        raise TsvFormatError(path, 0, "no judgments in the file")
    return qrels


# --- Scoring ---------------------------------------------------------------------------------


def measures(relevant_grade: int = RELEVANT_GRADE) -> dict[str, ir_measures.Measure]:
    """Metric name -> ir-measures measure. NDCG is graded; Recall and MRR count a product
    as relevant when its grade is at least `relevant_grade`."""
    if relevant_grade < 1:
        raise ValueError("relevant_grade must be at least 1")
    return {
        "ndcg@10": nDCG @ 10,
        "recall@50": R(rel=relevant_grade) @ 50,
        "mrr@10": RR(rel=relevant_grade) @ 10,
    }


def rankings_to_run(rankings: Rankings) -> dict[str, dict[str, float]]:
    """A TREC run with strictly decreasing scores, so trec_eval keeps our order exactly (it
    sorts by score and breaks ties by document id, which would reorder equal scores).
    A product repeated in one ranking keeps its first (best) position."""
    run: dict[str, dict[str, float]] = {}
    for qid, skus in rankings.items():
        scores: dict[str, float] = {}
        for rank, sku in enumerate(skus):
            scores.setdefault(sku, float(len(skus) - rank))
        run[qid] = scores
    return run


def per_query_scores(
    *, qrels: Qrels, rankings: Rankings, relevant_grade: int = RELEVANT_GRADE
) -> dict[str, MetricScores]:
    """Each judged query's NDCG@10, Recall@50 and MRR@10. A judged query missing from
    `rankings` or ranked empty scores 0 on every metric."""
    wanted = measures(relevant_grade)
    # Copies: ir-measures' trec_eval provider may rewrite the grades it is given in place.
    judged = {qid: dict(grades) for qid, grades in qrels.items() if grades}
    out: dict[str, MetricScores] = {qid: dict.fromkeys(METRIC_NAMES, 0.0) for qid in judged}
    run = {qid: docs for qid, docs in rankings_to_run(rankings).items() if docs and qid in judged}
    if not run:
        return out
    by_measure = {measure: name for name, measure in wanted.items()}
    for metric in ir_measures.iter_calc(list(wanted.values()), judged, run):
        out[metric.query_id][by_measure[metric.measure]] = float(metric.value)
    return out


def mean_scores(per_query: Mapping[str, MetricScores]) -> MetricScores:
    """The macro average over queries (every query weighs the same)."""
    if not per_query:
        return dict.fromkeys(METRIC_NAMES, math.nan)
    return {
        name: sum(scores[name] for scores in per_query.values()) / len(per_query)
        for name in METRIC_NAMES
    }


def evaluate_rankings(
    *, qrels: Qrels, rankings: Rankings, relevant_grade: int = RELEVANT_GRADE
) -> MetricScores:
    """Mean NDCG@10, Recall@50 and MRR@10 of these rankings over every judged query."""
    return mean_scores(
        per_query_scores(qrels=qrels, rankings=rankings, relevant_grade=relevant_grade)
    )


def write_trec_run(path: Path | str, rankings: Rankings, *, tag: str) -> None:
    """The rankings as a TREC run file (`qid Q0 sku rank score tag`), for trec_eval, ranx or
    a later comparison of two systems query by query."""
    run = rankings_to_run(rankings)
    with open(path, "w", encoding="utf-8") as handle:
        for qid, scores in run.items():
            for rank, (sku, score) in enumerate(scores.items(), start=1):
                handle.write(f"{qid} Q0 {sku} {rank} {score:g} {tag}\n")
