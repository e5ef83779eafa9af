"""The adaptation part of `bench/eval_esci.py --adapt`: run `manage.py adapt_models` on the ESCI
catalog (or read a finished run), print the active and the adapted index's figures side by
side with paired bootstrap intervals (bench/esci_references.paired), and time the trained
reranker per query at several rerank depths. Needs Django set up (eval_esci does it)."""

from __future__ import annotations

import io
import json
import statistics
import time
from pathlib import Path

from esci_references import paired, read_trec_run

MODES = ("lexical", "vector", "hybrid")


def run_adaptation(paths: dict[str, Path], options: list[str]) -> dict:
    """`manage.py adapt_models --sync --json` with the dev queries; returns its JSON."""
    from django.core.management import call_command

    out = io.StringIO()
    argv = ["--sync", "--json", "--queries", str(paths["queries"]), "--qrels", str(paths["qrels"])]
    call_command("adapt_models", *argv, *options, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def read_run(run_id: int) -> dict:
    """A finished AdaptationRun as adapt_models --json prints it."""
    from search.models import AdaptationRun

    run = AdaptationRun.objects.get(pk=run_id)
    return {
        "run": run.pk, "status": run.status, "index": run.index_id,
        "baseline_index": run.baseline_index_id, "model_dir": run.model_dir,
        "reranker": run.reranker_path, "training_pairs": run.training_pairs,
        "held_aside": run.held_aside, "timings": run.timings, "figures": run.figures,
        "message": run.message,
    }  # fmt: skip


def intervals(result: dict, qrels_path: Path) -> list[tuple[str, str, dict]]:
    """(what, mode, {metric: (mean diff, low, high)}) for adapted minus active per mode, and
    for each reranked run minus the same index's plain hybrid ranking."""
    from search import evaluation

    qrels = evaluation.read_qrels(qrels_path)
    runs = Path(result["model_dir"]) / "runs"

    def load(name: str, mode: str):
        path = runs / name / f"{mode}.run"
        return read_trec_run(path) if path.exists() else None

    out = []
    for mode in MODES:
        active, adapted = load("active", mode), load("adapted", mode)
        if active and adapted:
            out.append(("adapted - active", mode, paired(adapted, active, qrels)))
    for name, base in (("adapted-reranker", "adapted"), ("active-reranker", "active")):
        reranked, plain = load(name, "hybrid"), load(base, "hybrid")
        if reranked and plain:
            out.append((f"{name} - {base}", "hybrid", paired(reranked, plain, qrels)))
    return out


def rerank_latency(paths: dict[str, Path], reranker: str, depths: list[int]) -> list[dict]:
    """Hybrid search with the trained reranker on the active index, per rerank depth: the
    reranker's milliseconds per query (mean, p95) and the NDCG@10 it gives."""
    from django.test.utils import override_settings

    from search import evaluation
    from search.query import SearchRequest, normalise_query
    from search.services import search_products

    queries = evaluation.read_queries(paths["queries"])
    qrels = evaluation.read_qrels(paths["qrels"])
    queries = [q for q in queries if q.qid in qrels]
    cache = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    rows = []
    for depth in depths:
        with override_settings(VITRINE_RERANKER=reranker, SEARCH_RERANK_TOP_N=depth, CACHES=cache):
            search_products(SearchRequest(query="warm up", page_size=10))  # loads the model
            rankings, spent, reranking = {}, [], []
            for q in queries:
                text, _ = normalise_query(q.text)
                started = time.perf_counter()
                response = search_products(SearchRequest(query=text, page_size=10))
                spent.append((time.perf_counter() - started) * 1000)
                reranking.append(response.timings_ms["rerank"])
                rankings[q.qid] = [hit.sku for hit in response.results]
        rows.append(
            {
                "depth": depth,
                "rerank_ms_mean": round(statistics.fmean(reranking), 1),
                "rerank_ms_p95": round(_p95(reranking), 1),
                "search_ms_mean": round(statistics.fmean(spent), 1),
                "search_ms_p95": round(_p95(spent), 1),
                "ndcg@10": round(
                    evaluation.evaluate_rankings(qrels=qrels, rankings=rankings)["ndcg@10"], 4
                ),
            }
        )
    return rows


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def print_report(result: dict, rows: list, latency: list[dict]) -> None:
    figures = result["figures"]
    names = list(figures)
    print(f"\nESCI dev, adaptation run {result['run']} ({result['status']}): NDCG@10 / Recall@50")
    print(
        f"{'mode':<8}" + "".join(f"{n + ' [' + str(figures[n]['index']) + ']':>28}" for n in names)
    )
    for mode in MODES:
        cells = []
        for n in names:
            s = figures[n].get(mode)
            cells.append(f"{s['ndcg@10']:.4f} / {s['recall@50']:.4f}" if s else "-")
        print(f"{mode:<8}" + "".join(f"{c:>28}" for c in cells))
    print("\nmean per-query difference [95% paired bootstrap]: NDCG@10, Recall@50, MRR@10")
    for what, mode, diffs in rows:
        cells = "  ".join(f"{d:+.4f} [{lo:+.4f}, {hi:+.4f}]" for d, lo, hi in diffs.values())
        print(f"{what:<34} {mode:<8} {cells}")
    print(f"\ntimings (s): {result['timings']}")
    print(f"training pairs: {result['training_pairs']}")
    print(f"held-aside pseudo-queries: {result['held_aside']}")
    for row in latency:
        print(
            f"rerank depth {row['depth']:>3}: rerank {row['rerank_ms_mean']} ms/query (p95 "
            f"{row['rerank_ms_p95']}), whole search {row['search_ms_mean']} ms (p95 "
            f"{row['search_ms_p95']}), hybrid NDCG@10 {row['ndcg@10']}"
        )
