"""Measure search relevance on judged queries: NDCG@10, Recall@50 and MRR@10 per mode.

By default of the whole ranking (every ranked candidate, counted or not: what the ranking
itself is worth); with --counted of the counted results only, what a shopper pages through
(search.retrieval.counting)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from tqdm import tqdm

from catalog.selectors import has_products
from search import evaluation
from search.indexing.indexes import searching_index
from search.models import SearchIndex
from search.query import MODES, InvalidSearch, SearchRequest, normalise_query
from search.services import MAX_CANDIDATES, SearchUnavailable, search_products

MODE_ORDER = ("lexical", "vector", "hybrid")  # baseline legs first, the default last
# Rankings must reflect the code and settings of this run, never a list that a shopper (or
# the previous evaluation, with other settings) left in the shared results cache: the run
# gets a private in-memory cache instead.
PRIVATE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "evaluate-search",
    }
}


class Command(BaseCommand):
    help = (
        "Run judged queries through search_products and report NDCG@10, Recall@50 and MRR@10 "
        "per mode, of the whole ranking or (--counted) of the counted results. Queries: "
        "`qid<TAB>query`; qrels: `qid<TAB>sku<TAB>grade` (header lines allowed). With --json "
        "the last stdout line is {mode: {metric: value}}."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queries", required=True, type=Path, help="qid<TAB>query TSV")
        parser.add_argument("--qrels", required=True, type=Path, help="qid<TAB>sku<TAB>grade TSV")
        parser.add_argument(
            "--mode",
            choices=[*MODE_ORDER, "all"],
            default="all",
            help="retrieval mode to evaluate (default: all three)",
        )
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object as the last line"
        )
        parser.add_argument(
            "--rerank",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="rerank the top candidates when a reranker is configured (default: yes)",
        )
        parser.add_argument(
            "--k-candidates",
            type=int,
            default=evaluation.RANK_DEPTH,
            help=(
                "how many ranked results to ask search_products for per query (default "
                f"{evaluation.RANK_DEPTH}, what Recall@50 needs; the ranking depth is "
                "raised to match for this run)"
            ),
        )
        parser.add_argument(
            "--relevant-grade",
            type=int,
            default=evaluation.RELEVANT_GRADE,
            help=(
                "lowest grade Recall@50 and MRR@10 count as relevant (default "
                f"{evaluation.RELEVANT_GRADE}, as trec_eval and the ESCI reference points; 2 = "
                "ESCI exact or substitute only). NDCG@10 always uses the grades as gains."
            ),
        )
        parser.add_argument(
            "--counted",
            action="store_true",
            help=(
                "evaluate the counted results (what a shopper sees: the products the result "
                "count counts, in ranking order) instead of the whole ranking"
            ),
        )
        parser.add_argument(
            "--condensed",
            action="store_true",
            help=(
                "score condensed lists: each ranking without the products nobody judged for "
                "its query (for catalogs where unjudged products may be relevant)"
            ),
        )
        parser.add_argument(
            "--index",
            type=int,
            metavar="INDEX_ID",
            help=(
                "measure this search index (e.g. one built with --no-activate, see `reindex "
                "--list`) instead of the active one; shoppers keep the active one"
            ),
        )
        parser.add_argument(
            "--save-runs",
            type=Path,
            metavar="DIR",
            help="also write each mode's rankings as a TREC run file DIR/<mode>.run",
        )

    def handle(self, *args, **options) -> None:
        k: int = options["k_candidates"]
        relevant_grade: int = options["relevant_grade"]
        if relevant_grade < 1:
            raise CommandError("--relevant-grade must be at least 1.")
        if k < 1:
            raise CommandError("--k-candidates must be at least 1.")
        if k < evaluation.RANK_DEPTH:
            self.stderr.write(
                f"warning: --k-candidates {k} < {evaluation.RANK_DEPTH}: Recall@50 only sees "
                f"the top {k}."
            )
        try:
            queries = evaluation.read_queries(options["queries"])
            qrels = evaluation.read_qrels(options["qrels"])
        except evaluation.TsvFormatError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from None

        judged = [q for q in queries if q.qid in qrels]
        unjudged = len(queries) - len(judged)
        orphans = len(set(qrels) - {q.qid for q in queries})
        if unjudged:
            self.stderr.write(f"warning: {unjudged} queries have no judgments; skipped.")
        if orphans:
            self.stderr.write(f"warning: {orphans} judged qids are not in --queries; skipped.")
        if not judged:
            raise CommandError("No query in --queries has a judgment in --qrels.")
        if not has_products():  # every search would answer 0 results: no measure at all
            raise CommandError("The catalog has no products yet: import one, then reindex.")
        qrels = {q.qid: qrels[q.qid] for q in judged}
        no_relevant = sum(1 for grades in qrels.values() if max(grades.values()) < relevant_grade)
        if no_relevant:
            self.stderr.write(
                f"warning: {no_relevant} queries have no product graded >= "
                f"{relevant_grade}; they score 0 on Recall@50 and MRR@10."
            )

        searched = nullcontext()
        if options["index"] is not None:
            try:
                searched = searching_index(SearchIndex.objects.get(pk=options["index"]))
            except SearchIndex.DoesNotExist:
                raise CommandError(
                    f"no search index {options['index']}; see reindex --list"
                ) from None
        modes = MODE_ORDER if options["mode"] == "all" else (options["mode"],)
        assert set(modes) <= set(MODES), "evaluate_search and search.query disagree on modes"
        save_dir: Path | None = options["save_runs"]
        if save_dir:
            save_dir.mkdir(parents=True, exist_ok=True)

        results: dict[str, dict[str, float]] = {}
        latency: dict[str, float] = {}
        counts: dict[str, list[int]] = {mode: [] for mode in modes}
        counted: bool = options["counted"]
        depth = max(MAX_CANDIDATES, k)
        with (
            override_settings(CACHES=PRIVATE_CACHE),
            searched,
            tqdm(
                total=len(judged) * len(modes), unit="query", file=sys.stderr, disable=None
            ) as bar,
        ):
            # In-process caches of one name share their storage: a second evaluation in the
            # same process (after the catalog changed) must not be answered the first's.
            cache.clear()
            for mode in modes:
                bar.set_description(mode)
                started = time.perf_counter()
                rankings = {
                    q.qid: self._ranking(
                        q,
                        mode=mode,
                        k=k,
                        depth=depth,
                        rerank=options["rerank"],
                        counted=counted,
                        counts=counts[mode],
                        bar=bar,
                    )
                    for q in judged
                }
                latency[mode] = (time.perf_counter() - started) * 1000 / len(judged)
                if options["condensed"]:
                    rankings = {
                        qid: [sku for sku in ranking if sku in qrels[qid]]
                        for qid, ranking in rankings.items()
                    }
                results[mode] = evaluation.evaluate_rankings(
                    qrels=qrels, rankings=rankings, relevant_grade=relevant_grade
                )
                if save_dir:
                    evaluation.write_trec_run(save_dir / f"{mode}.run", rankings, tag=mode)

        if options["json"]:
            payload = {
                mode: {name: round(value, 6) for name, value in scores.items()}
                for mode, scores in results.items()
            }
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(
            f"{len(judged)} judged queries, {sum(len(v) for v in qrels.values())} judgments; "
            f"relevant for Recall/MRR = grade >= {relevant_grade}; "
            + (
                "the counted results (what a shopper sees)"
                if counted
                else "the whole ranking (counted or not)"
            )
        )
        header = f"{'mode':<8} {'NDCG@10':>8} {'Recall@50':>10} {'MRR@10':>8} {'ms/q':>7}"
        self.stdout.write(header + ("  count: median, mean" if counted else ""))
        for mode, scores in results.items():
            line = (
                f"{mode:<8} {scores['ndcg@10']:8.4f} {scores['recall@50']:10.4f} "
                f"{scores['mrr@10']:8.4f} {latency[mode]:7.1f}"
            )
            if counted:  # how many results the shopper was told of, per query
                line += (
                    f"  {statistics.median(counts[mode]):g}, {statistics.fmean(counts[mode]):.1f}"
                )
            self.stdout.write(line)

    def _ranking(
        self,
        query: evaluation.JudgedQuery,
        *,
        mode: str,
        k: int,
        depth: int,
        rerank: bool,
        counted: bool,
        counts: list[int],
        bar: tqdm,
    ) -> list[str]:
        text, _ = normalise_query(query.text)
        try:
            if not text:
                raise InvalidSearch("the query is empty after normalisation")
            response = search_products(
                SearchRequest(query=text, page=1, page_size=k, rerank=rerank, mode=mode),
                max_candidates=depth,
                whole_ranking=not counted,
            )
        except SearchUnavailable as exc:
            raise CommandError(str(exc)) from None
        except InvalidSearch as exc:
            raise CommandError(f"query {query.qid} ({query.text!r}): {exc}") from None
        bar.update(1)
        counts.append(response.count)
        return [hit.sku for hit in response.results]
