"""Phase 5, filtered: brand, category and price-range filters through the API (page fill
rate, every returned product checked against its filter, latency), and the filtered ANN
statement's recall@10 against the exact filtered search.

A page is full when it holds min(page size, count) products that match the filter: `count`
is how many products match (search.retrieval.counting), so a search that counts 7 fills its
page with 7. A returned product that does not match its filter counts against the fill and
in `mismatched`. How many searches counted fewer than a page is reported beside it
(`short_counts`), so a filter that starves the count shows there rather than passing as
"full". The filters keep about 0.5-5% of the catalog (brands and categories picked by their
size, price windows of 10 USD)."""

from __future__ import annotations

import json
import statistics
from decimal import Decimal

from suite.ann import as_a_request, recall
from suite.api import http_get, search_path
from suite.common import log, p50, rnd
from suite.overhead import latency_figures
from suite.state import Run
from suite.store import n_products

PAGE_SIZE = 20  # the API's default page
KINDS = ("brand", "category", "price")


def filter_choices(total: int) -> dict[str, list]:
    """Brands and categories holding 0.5-5% of the catalog (the nearest ones when none
    does), and 10-USD price windows."""
    from django.db.models import Count

    from catalog.models import Category, Product

    def pick(counts: list[tuple[str, int]]) -> list[str]:
        fit = [v for v, c in counts if 0.005 * total <= c <= 0.05 * total]
        if not fit:
            fit = [v for v, _ in sorted(counts, key=lambda vc: abs(vc[1] - 0.01 * total))[:10]]
        return sorted(fit)

    brands = Product.objects.exclude(brand="").values_list("brand").annotate(n=Count("id"))
    categories = Category.objects.annotate(n=Count("products")).values_list("path", "n")
    prices = [(Decimal(lo), Decimal(lo + 10)) for lo in range(10, 90, 10)]
    return {"brand": pick(list(brands)), "category": pick(list(categories)), "price": prices}


def request_filter(kind: str, choice) -> tuple[dict, object]:
    """The API parameters and the search.query.SearchFilters of one filter."""
    from search.query import SearchFilters

    if kind == "brand":
        return {"brand": choice}, SearchFilters(brands=(choice,))
    if kind == "category":
        return {"category": choice}, SearchFilters(category=choice)
    lo, hi = choice
    return {"price_min": lo, "price_max": hi}, SearchFilters(price_min=lo, price_max=hi)


def matches(kind: str, choice, skus: list[str]) -> list[bool]:
    """Whether each returned product (by SKU) is one the filter keeps."""
    from catalog.models import Product

    rows = {p.sku: p for p in Product.objects.filter(sku__in=skus).select_related("category")}
    out = []
    for sku in skus:
        p = rows.get(sku)
        if p is None:
            out.append(False)
        elif kind == "brand":  # the filter ignores case (search.retrieval.filters)
            out.append(p.brand.lower() == choice.lower())
        elif kind == "category":
            path = p.category.path if p.category else ""
            out.append(path == choice or path.startswith(choice + "/"))
        else:
            out.append(p.price is not None and choice[0] <= p.price <= choice[1])
    return out


def filtered(run: Run) -> None:
    """Against the `web` the search phase started."""
    from search.inference.loading import embedder_for_index
    from search.retrieval.vector import HNSW_MAX_SCAN_TUPLES
    from search.services import MAX_CANDIDATES

    a = run.args
    total = n_products(run)
    choices = filter_choices(total)
    texts = run.queries.take(a.filtered_requests)
    embedder = embedder_for_index(run.index)
    per: dict[str, dict[str, list]] = {
        k: {
            "fill": [],
            "ms": [],
            "counts": [],
            "sql_ms": [],
            "recall": [],
            "mismatched": [],
            "fill_sql": [],
        }
        for k in KINDS
    }
    for i, text in enumerate(texts):
        kind = KINDS[i % len(KINDS)]
        options = choices[kind]
        choice = options[(i // len(KINDS)) % len(options)]
        params, filters = request_filter(kind, choice)
        f = per[kind]
        status, body, ms = http_get(a.port, search_path(text, mode="vector", **params))
        if status != 200:
            f["fill"].append(0.0)
        else:
            data = json.loads(body)
            ok = matches(kind, choice, [r["sku"] for r in data["results"]])
            due = min(PAGE_SIZE, data["count"])  # what a full page holds
            f["fill"].append(min(sum(ok), due) / due if due else 1.0)
            f["mismatched"].append(len(ok) - sum(ok))
            f["counts"].append(data["count"])
            f["ms"].append(ms)
        # The filtered ANN statement against the exact filtered search, as a request runs them.
        found, sql_ms = as_a_request(run, embedder, text, filters=filters)
        truth, _ = as_a_request(run, embedder, text, filters=filters, exact=True)
        f["sql_ms"].append(sql_ms)
        f["fill_sql"].append(len(found) / MAX_CANDIDATES)
        r = recall(found, truth, 1e-3)
        if r is not None:
            f["recall"].append(r)
    everything = {k: [x for f in per.values() for x in f[k]] for k in next(iter(per.values()))}
    out = {
        "filter": "brand, category, price range (10 USD), in turn",
        "page_size": PAGE_SIZE,
        "fill_rate": rnd(statistics.fmean(everything["fill"]), 3),
        "mismatched": sum(everything["mismatched"]),
        "recall_at_10": rnd(statistics.fmean(everything["recall"]), 4)
        if everything["recall"]
        else None,
        **latency_figures(everything["ms"]),
        "count_p50": rnd(p50(everything["counts"])) if everything["counts"] else None,
        "short_counts": rnd(statistics.fmean(c < PAGE_SIZE for c in everything["counts"]), 3)
        if everything["counts"]
        else None,
        "selectivity": rnd(p50(everything["counts"]) / total, 4) if everything["counts"] else None,
        "sql_p50_ms": rnd(p50(everything["sql_ms"])),
        "sql_candidates_fill": rnd(statistics.fmean(everything["fill_sql"]), 3),
        "max_scan_tuples": HNSW_MAX_SCAN_TUPLES,
        "by_filter": {},
    }
    for kind, f in per.items():
        counts = f["counts"]
        out["by_filter"][kind] = {
            "choices": len(choices[kind]),
            "requests": len(f["fill"]),
            "fill_rate": rnd(statistics.fmean(f["fill"]), 3) if f["fill"] else None,
            "mismatched": sum(f["mismatched"]),
            "recall_at_10": rnd(statistics.fmean(f["recall"]), 4) if f["recall"] else None,
            "recall_queries": len(f["recall"]),
            "count_p50": rnd(p50(counts)) if counts else None,
            "short_counts": rnd(statistics.fmean(c < PAGE_SIZE for c in counts), 3)
            if counts
            else None,
            **latency_figures(f["ms"]),
            "sql_p50_ms": rnd(p50(f["sql_ms"])),
            "selectivity_p50": rnd(p50(counts) / total, 4) if counts else None,
        }
    run.results["filtered"] = out
    log(f"filtered: {out}")
