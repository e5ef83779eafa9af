"""Phase 5, filtered: a brand filter that keeps 1% of the catalog; page fill rate and
latency through the API, and the ANN SQL's own fill.

A page is full when it holds min(page size, count) results: `count` is how many products
match (search.retrieval.counting), so a search that counts 7 fills its page with 7. How many
searches counted fewer than a page is reported beside it (`short_counts`), so a filter that
starves the count shows there rather than passing as "full"."""

from __future__ import annotations

import json
import statistics

import numpy as np

from suite.ann import ann_sql
from suite.api import http_get, search_path
from suite.common import N_BRANDS, SYNTH_PREFIX, log, p50, percentile, rnd
from suite.state import Run

PAGE_SIZE = 20  # the API's default page


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
    fill, fms, sql_fill, sql_fms, counts = [], [], [], [], []
    for i, text in enumerate(ftexts):
        brand = brands[i % N_BRANDS]
        status, body, ms = http_get(a.port, search_path(text, mode="vector", brand=brand))
        if status == 200:
            data = json.loads(body)
            counts.append(data["count"])
            due = min(PAGE_SIZE, data["count"])  # what a full page holds
            fill.append(min(len(data["results"]), due) / due if due else 1.0)
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
        "page_size": PAGE_SIZE,
        "fill_rate": rnd(statistics.fmean(fill), 3),
        "count_p50": rnd(p50(counts)) if counts else None,
        "short_counts": rnd(statistics.fmean(c < PAGE_SIZE for c in counts), 3) if counts else None,
        "p50_ms": rnd(p50(fms)),
        "p95_ms": rnd(percentile(fms, 95)),
        "sql_p50_ms": rnd(p50(sql_fms)),
        "sql_candidates_fill": rnd(statistics.fmean(sql_fill), 3),
        "max_scan_tuples": HNSW_MAX_SCAN_TUPLES,
    }
    log(f"filtered: {run.results['filtered']}")
