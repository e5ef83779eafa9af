"""The printed table of a bench run: each line a figure, marked with its goal (PASS, FAIL,
NOT MEASURED) or `info` when it has none (docs/BENCHMARKS.md explains each)."""

from __future__ import annotations


class Table:
    def __init__(self, results: dict) -> None:
        self.r = results
        self.goals = results.get("goals", {})

    def row(self, label: str, value, unit: str = "", key: str | None = None) -> None:
        if isinstance(value, float):
            value = f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        elif value is None:
            value = "-"
        if key is None:
            verdict = "info"
        else:
            g = self.goals.get(key, {})
            state = "NOT MEASURED" if g.get("value") is None else "PASS" if g["pass"] else "FAIL"
            verdict = f"{state} (goal {g.get('goal')})"
        print(f"  {label:<44} {str(value):>22} {unit:<6} {verdict}")

    def lat(self, label: str, d: dict, prefix: str = "", key: str | None = None) -> None:
        """p50 / p95 / p99 of one phase."""
        values = [d.get(f"{prefix}{q}_ms") for q in ("p50", "p95", "p99")]
        text = " / ".join("-" if v is None else f"{v:.1f}" for v in values)
        self.row(f"{label} p50 / p95 / p99", text, "ms", key)


def print_table(r: dict) -> None:
    t = Table(r)
    meta = r["meta"]
    print()
    print("=" * 100)
    print(f"  Vitrine make bench — {meta['date']} — {meta['machine']}")
    print(
        f"  model {meta.get('model')}, PostgreSQL {meta['postgres']} + pgvector "
        f"{meta['pgvector']}, torch {meta['torch']} ({meta['torch_threads_per_process']} "
        f"thread/process); load avg at start {meta['load_average_at_start'][0]:.1f}, end "
        f"{meta.get('load_average_at_end', [0])[0]:.1f}"
    )
    print("=" * 100)
    for section in SECTIONS:
        try:
            section(t, r)
        except (KeyError, TypeError, ValueError) as exc:  # a phase that did not finish
            print(f"  ({section.__name__.removeprefix('_')}: incomplete, {exc!r})")
    print("=" * 100)


def _catalog(t: Table, r: dict) -> None:
    cat = r.get("catalog", {})
    if cat:
        m = cat.get("makeup", {})
        print(
            f"  catalog: {m.get('products', 0):,} products = {m.get('esci', 0):,} ESCI + "
            f"{m.get('fashion', 0):,} fashion + {m.get('fashion_variants', 0):,} variants + "
            f"{m.get('ingested_fashion_with_photos', 0):,} ingested; the model's own vectors"
        )
        v = cat.get("vectors", {})
        t.row(
            "vectors from the cache / encoded now",
            f"{v.get('from_cache')} / {v.get('encoded_now')}",
        )


def _ingest(t: Table, r: dict) -> None:
    ing = r.get("ingest", {})
    if ing:
        print(
            f"  ingest ({ing.get('products', 0):,} fashion products with photos, into the "
            f"{ing.get('catalog_products', 0):,}-product index, x {ing.get('rounds')} rounds)"
        )
        t.row("pipeline (saved -> vector stored, worker)", ing.get("pipeline_docs_per_s"), "doc/s")
        t.row("raw encode_documents, same documents", ing.get("raw_encode_docs_per_s"), "doc/s")
        t.row("ratio pipeline / raw", ing.get("ratio"), "", "ingest.ratio")


def _search(t: Table, r: dict) -> None:
    s = r.get("search", {})
    if s:
        print(
            f"  search ({s.get('n_products', 0):,} products; distinct queries; API and floor "
            "alternating)"
        )
        t.row("floor p50: encode, then its ANN SQL", s.get("floor_p50_ms"), "ms")
        t.lat("API mode=vector", s, "api_")
        t.row("overhead API p50 / floor p50", s.get("overhead_ratio"), "", "search.overhead_ratio")
        h = s.get("hybrid", {})
        print("  hybrid against vector (same queries, twin webs, alternating)")
        t.lat("API mode=hybrid", h)
        t.lat("API mode=vector", h, "vector_")
        t.row("hybrid p50 / vector p50", h.get("ratio_vs_vector"), "", "hybrid.ratio_vs_vector")
        t.row("keyword SQL p50 (in-process)", h.get("lexical_sql_p50_ms"), "ms")


def _relevance(t: Table, r: dict) -> None:
    rel = r.get("relevance", {})
    if rel:
        print("  relevance (ESCI dev, hybrid, condensed lists)")
        t.row(
            f"NDCG@10, {rel.get('esci_only', {}).get('products', 0):,} ESCI products alone",
            f"{rel.get('ndcg_at_10_esci_only'):.4f}",
        )
        t.row(
            f"NDCG@10, hidden among {rel.get('at_scale', {}).get('products', 0):,}",
            f"{rel.get('ndcg_at_10_at_scale'):.4f}",
        )
        drop = rel.get("at_scale_drop")
        t.row(
            f"drop, {rel.get('measured_queries')} queries ranking a judged product",
            "not measured" if drop is None else f"{drop:.4f}",
            "",
            "relevance.at_scale_drop",
        )
        t.row("drop over every query", f"{rel.get('at_scale_drop_every_query'):.4f}")
        for text in rel.get("unmeasurable_queries", []):
            t.row(f"  no judged product ranked at scale: {text!r}", "left out")


def _ann(t: Table, r: dict) -> None:
    ann = r.get("ann", {})
    if ann:
        print(
            f"  ann (ef_search {ann.get('ef_search')}, {ann.get('queries')} queries, "
            "each statement after its encoding, ANN and exact alternating)"
        )
        t.row(
            "recall@10 vs exact (distance eps 1e-3)",
            ann.get("recall_at_10"),
            "",
            "ann.recall_at_10",
        )
        t.row("recall@10 strict (same products)", ann.get("recall_at_10_strict"))
        t.lat("ANN SQL", ann, "ann_")
        t.lat("exact SQL", ann, "exact_")
        t.row(
            "speedup exact p50 / ANN p50", ann.get("speedup_vs_exact"), "x", "ann.speedup_vs_exact"
        )
        vector_mode = ann.get("vector_mode")
        if vector_mode:
            t.row(
                f"vector-only search (ef_search {vector_mode['ef_search']}): recall@10",
                vector_mode.get("recall_at_10"),
                "",
                "ann.vector_mode.recall_at_10",
            )
            t.row(
                "  its ANN p50 / exact p50, speedup",
                f"{vector_mode['ann_p50_ms']} / {vector_mode['exact_p50_ms']} ms, "
                f"{vector_mode['speedup_vs_exact']}x",
            )
        defaults = {p["ef_search"]: p for p in ann.get("pgvector_defaults", {}).get("curve", [])}
        for point in ann.get("curve", []):
            other = defaults.get(point["ef_search"])
            extra = f" | m16/64: {other['recall_at_10']} / {other['p50_ms']:.1f}" if other else ""
            t.row(
                f"  ef_search {point['ef_search']}: recall / p50 ms",
                f"{point['recall_at_10']} / {point['p50_ms']:.1f}{extra}",
            )


def _filtered(t: Table, r: dict) -> None:
    f = r.get("filtered", {})
    if f:
        print("  filtered (brand, category, price range; vector mode; each result checked)")
        t.row(
            "fill rate (matching results / min(20, count))",
            f.get("fill_rate"),
            "",
            "filtered.fill_rate",
        )
        t.row("results not matching their filter", f.get("mismatched"), "", "filtered.mismatched")
        t.row(
            "filtered ANN recall@10 vs exact filtered",
            f.get("recall_at_10"),
            "",
            "filtered.recall_at_10",
        )
        t.lat("API", f)
        for kind, k in f.get("by_filter", {}).items():
            t.row(
                f"  {kind}: fill / recall@10 / p50 ms",
                f"{k['fill_rate']} / {k['recall_at_10']} / {k['p50_ms']:.0f}",
            )


def _load(t: Table, r: dict) -> None:
    for key, goal in (("load", "load.errors"), ("load_hybrid", "hybrid.load_errors")):
        ld = r.get(key)
        if ld:
            print(
                f"  {key} ({ld['clients']} clients, {ld['rounds']} rounds, {ld['seconds']:.0f} s)"
            )
            t.row("throughput", ld["rps"], "req/s")
            t.lat("latency", ld)
            t.row("errors (non-200, socket, timeout)", ld["errors"], "", goal)


def _hybrid_load(t: Table, r: dict) -> None:
    hy = r.get("hybrid", {})
    if "load_ratio_vs_vector" in hy or "p99_over_p50" in hy:
        t.row(
            "hybrid req/s / vector req/s under load",
            hy.get("load_ratio_vs_vector"),
            "",
            "hybrid.load_ratio_vs_vector",
        )
        t.row("hybrid p99 / p50 under load", hy.get("p99_over_p50"), "", "hybrid.p99_over_p50")


def _insights(t: Table, r: dict) -> None:
    ins = r.get("insights")
    if ins:
        print(f"  search insights ({ins['requests_per_side']} hybrid queries, each to both webs)")
        t.row(
            "p50 / p95 / p99 recording on",
            f"{ins['p50_ms_on']:.1f} / {ins['p95_ms_on']:.1f} / {ins.get('p99_ms_on', 0):.1f}",
            "ms",
        )
        t.row(
            "p50 / p95 / p99 recording off",
            f"{ins['p50_ms_off']:.1f} / {ins['p95_ms_off']:.1f} / {ins.get('p99_ms_off', 0):.1f}",
            "ms",
        )
        t.row("overhead p50 on / off", ins["overhead_ratio"], "", "insights.overhead_ratio")


def _suggest(t: Table, r: dict) -> None:
    sug = r.get("suggest")
    if sug:
        print(f"  search-as-you-type ({sug['requests']} distinct prefixes, each beside a /livez)")
        t.lat("suggest", sug)
        t.row("suggest p50", sug["p50_ms"], "ms", "suggest.p50_ms")
        t.row("suggest p50 / empty endpoint p50", sug["ratio_to_empty"])


def _memory(t: Table, r: dict) -> None:
    m = r.get("memory")
    if m:
        print("  memory after the load")
        t.row("web (gunicorn master + workers) RSS", m["web_rss_mb"], "MB")
        t.row("worker (celery main + pool) RSS", m["worker_rss_mb"], "MB")


def _remote(t: Table, r: dict) -> None:
    rem = r.get("remote")
    if rem:
        print("  remote inference (query worker on the `query` queue)")
        t.row(
            "encode p50 in-process / remote",
            f"{rem['encode_in_process_p50_ms']:.1f} / {rem['encode_remote_p50_ms']:.1f}",
            "ms",
        )
        t.row(
            "API vector p50 in-process / remote",
            f"{rem['api_vector_p50_ms_in_process']:.1f} / {rem['api_vector_p50_ms_remote']:.1f}",
            "ms",
        )
        t.row("web RSS without a model", rem["web_rss_mb_no_model"], "MB")


def _cold_start(t: Table, r: dict) -> None:
    cs = r.get("cold_start")
    if cs:
        print("  cold start (the stack as make run starts it)")
        t.row("ready banner after", cs.get("ready_s"), "s")
        t.row("first search after ready", cs.get("first_search_ms"), "ms")
        t.lat("warm searches", cs, "warm_")
        t.row("first / warm p50", cs.get("ratio"), "", "cold_start.ratio")


def _scale(t: Table, r: dict) -> None:
    for n, v in r.get("scale", {}).items():
        b = v.get("build", {})
        t.row(
            f"{int(n):,} products: HNSW build / size",
            f"{b.get('hnsw_build_s', 0):.0f} s / {b.get('hnsw_index_mb', 0):.0f} MB",
        )
        t.row(
            f"{int(n):,} products: ANN / exact p50",
            f"{v['ann_p50_ms']:.1f} / {v['exact_p50_ms']:.1f}",
            "ms",
        )
        t.row(
            f"{int(n):,} products: recall@10; upsert 64 p50",
            f"{v['recall_at_10']}; {v.get('upsert_64_p50_ms')} ms",
        )


SECTIONS = [
    _catalog,
    _ingest,
    _search,
    _relevance,
    _ann,
    _filtered,
    _load,
    _hybrid_load,
    _insights,
    _suggest,
    _memory,
    _remote,
    _cold_start,
    _scale,
]
