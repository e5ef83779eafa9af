"""relevance.at_scale: ESCI dev NDCG@10 of hybrid search on the ESCI products alone, and
again with them hidden among the rest of the catalog (same run, same database, same model),
both scored on condensed lists (`evaluate_search --condensed`: products nobody judged for a
query are dropped from its ranking before scoring, since the fashion catalog holds real
shoes and handbags some dev queries ask for, and nobody judged them). Each ranking is the
whole of what hybrid search ranks (search.services.MAX_CANDIDATES deep), so a judged product
pushed down by unjudged ones still counts where it lands."""

from __future__ import annotations

import io
import json
import time

from suite.common import log, rnd
from suite.state import Run
from suite.store import n_products


def esci_ndcg(run: Run) -> dict:
    """NDCG@10, Recall@50 and MRR@10 of hybrid search on the ESCI dev queries, condensed."""
    from django.core.management import call_command

    from search.services import MAX_CANDIDATES

    out = io.StringIO()
    t = time.perf_counter()
    call_command(
        "evaluate_search",
        queries=run.esci["queries"],
        qrels=run.esci["qrels"],
        mode="hybrid",
        json=True,
        condensed=True,
        k_candidates=MAX_CANDIDATES,
        stdout=out,
        stderr=io.StringIO(),
    )
    scores = json.loads(out.getvalue().strip().splitlines()[-1])["hybrid"]
    figures = {
        "products": n_products(run),
        "ndcg_at_10": rnd(scores["ndcg@10"], 4),
        "recall_at_50": rnd(scores["recall@50"], 4),
        "mrr_at_10": rnd(scores["mrr@10"], 4),
        "seconds": rnd(time.perf_counter() - t, 1),
    }
    log(f"ESCI dev, hybrid, condensed, {figures['products']:,} products: {figures}")
    return figures


def at_scale(run: Run, alone: dict) -> dict:
    """The figures for latest.json's `relevance`: `at_scale_drop` = NDCG@10 on the ESCI
    products alone minus NDCG@10 with the whole catalog."""
    scaled = esci_ndcg(run)
    return {
        "queries": "ESCI dev (../shared/data/esci), judged products only (condensed lists)",
        "mode": "hybrid",
        "esci_only": alone,
        "at_scale": scaled,
        "ndcg_at_10_esci_only": alone["ndcg_at_10"],
        "ndcg_at_10_at_scale": scaled["ndcg_at_10"],
        "at_scale_drop": rnd(alone["ndcg_at_10"] - scaled["ndcg_at_10"], 4),
    }
