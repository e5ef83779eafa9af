"""Phase 5, filtered: a brand filter that keeps 1% of the catalog; page fill rate and
latency through the API, and the ANN SQL's own fill."""

from __future__ import annotations

import json
import statistics

import numpy as np

from suite.ann import ann_sql
from suite.api import http_get, search_path
from suite.common import N_BRANDS, SYNTH_PREFIX, log, p50, percentile, rnd
from suite.state import Run


def filtered(run: Run, *, n_products: int, vectors: list[np.ndarray]) -> None:
    """Against the web the search phase started; `vectors` are that phase's queries."""

    from catalog.models import Product
    from search.query import SearchFilters
    from search.retrieval.vector import HNSW_MAX_SCAN_TUPLES
    from search.services import MAX_CANDIDATES

    a = run.args
    brands = [f"BenchBrand{i:02d}" for i in range(N_BRANDS)]
    selectivity = Product.objects.filter(brand=brands[0]).count() / n_products
    ftexts = run.queries.take(a.filtered_requests)
    fill, fms, sql_fill, sql_fms = [], [], [], []
    for i, text in enumerate(ftexts):
        brand = brands[i % N_BRANDS]
        status, body, ms = http_get(a.port, search_path(text, mode="vector", brand=brand))
        if status == 200:
            data = json.loads(body)
            fill.append(min(len(data["results"]), 20) / 20)
            fms.append(ms)
            assert all(r["sku"].startswith(SYNTH_PREFIX) for r in data["results"])
        else:
            fill.append(0.0)
    for i, v in enumerate(vectors[: a.filtered_requests]):
        found, ms = ann_sql(run, v, filters=SearchFilters(brands=(brands[i % N_BRANDS],)))
        sql_fill.append(len(found) / MAX_CANDIDATES)
        sql_fms.append(ms)
    run.results["filtered"] = {
        "filter": "brand (one of 100 synthetic brands)",
        "selectivity": rnd(selectivity, 4),
        "page_size": 20,
        "fill_rate": rnd(statistics.fmean(fill), 3),
        "p50_ms": rnd(p50(fms)),
        "p95_ms": rnd(percentile(fms, 95)),
        "sql_p50_ms": rnd(p50(sql_fms)),
        "sql_candidates_fill": rnd(statistics.fmean(sql_fill), 3),
        "max_scan_tuples": HNSW_MAX_SCAN_TUPLES,
    }
    log(f"filtered: {run.results['filtered']}")
