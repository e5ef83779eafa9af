"""relevance.at_scale: ESCI dev NDCG@10 of hybrid search on the ESCI products alone, and
again with them hidden among the rest of the catalog (same run, same database, same model),
both scored on condensed lists (`evaluate_search --condensed`: products nobody judged for a
query are dropped from its ranking before scoring, since the fashion catalog holds real
shoes and handbags some dev queries ask for, and nobody judged them). Each ranking is the
whole of what hybrid search ranks (search.services.MAX_CANDIDATES deep), so a judged product
pushed down by unjudged ones still counts where it lands.

A query whose ranking at scale holds no judged product at all (its condensed list is empty:
"flip flops" among ~1,700 unjudged fashion flip-flops) cannot be measured this way - every
product ranked is one nobody judged - so it is left out of both sides of the drop, named in
latest.json, and the drop over every query is reported beside it. More than
MAX_UNMEASURABLE_SHARE of the queries unmeasurable fails the goal as not measured."""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from suite.common import log, rnd
from suite.state import Run
from suite.store import n_products

# One query in twenty: beyond it the condensed measure says too little to judge by.
MAX_UNMEASURABLE_SHARE = 0.05


def esci_ndcg(run: Run) -> dict:
    """NDCG@10, Recall@50 and MRR@10 of hybrid search on the ESCI dev queries, condensed;
    `per_query` (qid -> NDCG@10) and `ranked` (qid -> how many judged products the
    condensed ranking holds) for at_scale."""
    from django.core.management import call_command

    from search.evaluation import per_query_scores, read_qrels
    from search.services import MAX_CANDIDATES

    out = io.StringIO()
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vt-bench-runs-") as runs:
        call_command(
            "evaluate_search",
            queries=run.esci["queries"],
            qrels=run.esci["qrels"],
            mode="hybrid",
            json=True,
            condensed=True,
            k_candidates=MAX_CANDIDATES,
            save_runs=Path(runs),
            stdout=out,
            stderr=io.StringIO(),
        )
        rankings = read_run(Path(runs) / "hybrid.run")
    scores = json.loads(out.getvalue().strip().splitlines()[-1])["hybrid"]
    qrels = read_qrels(run.esci["qrels"])
    per_query = per_query_scores(qrels=qrels, rankings=rankings)
    figures = {
        "products": n_products(run),
        "ndcg_at_10": rnd(scores["ndcg@10"], 4),
        "recall_at_50": rnd(scores["recall@50"], 4),
        "mrr_at_10": rnd(scores["mrr@10"], 4),
        "seconds": rnd(time.perf_counter() - t, 1),
    }
    log(f"ESCI dev, hybrid, condensed, {figures['products']:,} products: {figures}")
    return {
        **figures,
        "per_query": {qid: s["ndcg@10"] for qid, s in per_query.items()},
        "ranked": {qid: len(rankings.get(qid, [])) for qid in per_query},
    }


def read_run(path: Path) -> dict[str, list[str]]:
    """A TREC run file as each query's SKUs, best first (its scores fall with the rank)."""
    import ir_measures

    scored: dict[str, list[tuple[float, str]]] = {}
    for doc in ir_measures.read_trec_run(str(path)):
        scored.setdefault(doc.query_id, []).append((doc.score, doc.doc_id))
    return {qid: [sku for _, sku in sorted(rows, reverse=True)] for qid, rows in scored.items()}


def at_scale(run: Run, alone: dict) -> dict:
    """The figures for latest.json's `relevance`, with the whole catalog now in place."""
    from search.evaluation import read_queries

    scaled = esci_ndcg(run)
    texts = {q.qid: q.text for q in read_queries(run.esci["queries"])}
    figures = scale_drop(alone, scaled, texts)
    if figures["unmeasurable_queries"]:
        log(
            f"  {len(figures['unmeasurable_queries'])} queries rank no judged product at scale "
            f"(left out of the drop): {figures['unmeasurable_queries']}"
        )
    return figures


def scale_drop(alone: dict, scaled: dict, texts: dict[str, str]) -> dict:
    """`at_scale_drop` = mean over the measurable queries of NDCG@10 on the ESCI products
    alone minus NDCG@10 with the whole catalog (None when too few are measurable); both
    sides as esci_ndcg returns them."""
    qids = sorted(alone["per_query"])
    unmeasurable = [q for q in qids if not scaled["ranked"].get(q) or not alone["ranked"][q]]
    measured = [q for q in qids if q not in unmeasurable]
    drops = [alone["per_query"][q] - scaled["per_query"][q] for q in measured]
    every = [alone["per_query"][q] - scaled["per_query"][q] for q in qids]
    measurable = drops and len(unmeasurable) <= MAX_UNMEASURABLE_SHARE * len(qids)
    return {
        "queries": "ESCI dev (../shared/data/esci), judged products only (condensed lists)",
        "mode": "hybrid",
        "esci_only": {k: v for k, v in alone.items() if k not in ("per_query", "ranked")},
        "at_scale": {k: v for k, v in scaled.items() if k not in ("per_query", "ranked")},
        "ndcg_at_10_esci_only": alone["ndcg_at_10"],
        "ndcg_at_10_at_scale": scaled["ndcg_at_10"],
        "at_scale_drop": rnd(statistics.fmean(drops), 4) if measurable else None,
        "at_scale_drop_every_query": rnd(statistics.fmean(every), 4),
        "measured_queries": len(measured),
        "unmeasurable_queries": [texts.get(q, q) for q in unmeasurable],
        "rule": "mean over the queries whose condensed ranking holds a judged product on both "
        f"sides; more than {MAX_UNMEASURABLE_SHARE:.0%} unmeasurable fails the goal",
    }
