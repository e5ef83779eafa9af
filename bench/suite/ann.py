"""Phase 3, ann: recall@10 of the shipped ANN SQL (search.retrieval.vector.vector_candidates)
against the same SQL with index scans off (exact), its speedup, and the curve over
ef_search, at each scale point of the catalog (suite.catalog).

Both sides of the speedup are measured the way a request runs them (docs/BENCHMARKS.md, "One
rule for every ratio"): per query, encode it, then run the statement, timing the statement;
the ANN and the exact statement alternate query by query (which goes first swapping), on
the same queries, in the same phase."""

from __future__ import annotations

import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from suite.catalog import catalog_makeup, grow_catalog
from suite.common import log, p50, percentile, rnd
from suite.state import Run
from suite.store import build_hnsw, n_products, upsert_cost

RECALL_EPSILON = 1e-3  # ann-benchmarks' default for k-NN recall (on the distance)


def scale_and_ann(run: Run) -> int:
    """Grow the catalog to each scale point (--small, then --products less what the ingest
    phase adds), measure the ANN leg of the default path (hybrid search's ef_search) at
    each, at full size also vector-only search's (its own ef_search) and pgvector's default
    graph when asked; the plan of the shipped statement. Returns the catalog's size."""
    from django.conf import settings

    hybrid_ef = settings.SEARCH_HNSW_EF_SEARCH_HYBRID
    a = run.args
    texts = run.queries.take(a.ann_queries)
    full = a.products - run.ingest_total
    scale = {}
    default: dict = {}
    for target in sorted({max(min(a.small, full), n_products(run)), full}):
        log(f"growing the catalog to {target:,} products (COPY, vectors, lexical, HNSW)")
        if target == full and a.compare_hnsw:
            # pgvector's default graph first, on the same vectors and queries.
            loaded = grow_catalog(run, target, build=False)
            built = build_hnsw(run, (16, 64))
            log(f"  HNSW m 16, ef_construction 64 (pgvector defaults): {built}")
            default = measure_ann(run, texts, curve=True, ef_search=hybrid_ef)
            default["build"] = {k: rnd(v, 1) for k, v in built.items()}
            default["upsert_64_p50_ms"] = upsert_cost(run)
            log(f"  upsert of 64 vectors into this graph: p50 {default['upsert_64_p50_ms']} ms")
            build = {**loaded, **{k: rnd(v, 1) for k, v in build_hnsw(run).items()}}
        else:
            build = grow_catalog(run, target)
        n = n_products(run)
        log(f"  {n:,} products: {build}")
        ann = measure_ann(run, texts, curve=(target == full), ef_search=hybrid_ef)
        if target == full:
            # The same check on real shoppers' words (ESCI dev), which the graph must reach
            # among 92k fashion products (docs/BENCHMARKS.md, "Relevance at scale").
            esci = measure_ann(run, esci_query_texts(run), curve=False, ef_search=hybrid_ef)
            ann["esci_queries"] = {k: esci[k] for k in ("queries", "recall_at_10", "ann_p50_ms")}
            # Vector-only search ranks the ANN list alone, on a longer one (its ef_search).
            ann["vector_mode"] = {
                k: v
                for k, v in measure_ann(
                    run, texts, curve=False, ef_search=settings.SEARCH_HNSW_EF_SEARCH
                ).items()
                if k != "measured"
            }
        ann["upsert_64_p50_ms"] = upsert_cost(run)
        log(f"  upsert of 64 vectors into the shipped graph: p50 {ann['upsert_64_p50_ms']} ms")
        scale[str(n)] = {"build": build, **{k: v for k, v in ann.items() if k != "curve"}}
        log(
            f"  recall@10 {ann['recall_at_10']}, ANN p50 {ann['ann_p50_ms']} ms, exact "
            f"p50 {ann['exact_p50_ms']} ms ({ann['speedup_vs_exact']}x)"
        )
    size = n_products(run)
    run.results["ann"] = dict(ann)
    if a.compare_hnsw:
        from search.indexing.indexes import HNSW_EF_CONSTRUCTION, HNSW_M

        run.results["ann"]["hnsw"] = {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION}
        run.results["ann"]["pgvector_defaults"] = default
    run.results["ann"]["query_vectors"] = "the embedder's encodings of distinct shopper queries"
    run.results["scale"] = scale
    run.results["catalog"] = {**run.results.get("catalog", {}), "makeup": catalog_makeup()}
    from search.inference.encoding import encode_query
    from search.inference.loading import embedder_for_index

    vector = encode_query(embedder_for_index(run.index), text=texts[0])
    run.results["plan"] = explain_ann(run, vector)
    return size


def esci_query_texts(run: Run) -> list[str]:
    """The ESCI dev queries' texts (queries.tsv: a header, then id, tab, text)."""
    rows = [line.split("\t", 1) for line in Path(run.esci["queries"]).read_text().splitlines()]
    return [row[1] for row in rows[1:] if len(row) == 2]


def encode_texts(run: Run, texts: list[str]) -> tuple[list[np.ndarray], list[float]]:
    """Query vectors the way the web encodes them in-process, and the ms each took."""
    from search.inference.encoding import encode_query
    from search.inference.loading import embedder_for_index

    embedder = embedder_for_index(run.index)
    encode_query(embedder, text="warm up")
    vectors, times = [], []
    for text in texts:
        t = time.perf_counter()
        vectors.append(encode_query(embedder, text=text))
        times.append((time.perf_counter() - t) * 1000)
    return vectors, times


def encode_then_sql(
    run: Run, texts: list[str]
) -> tuple[list[np.ndarray], list[float], list[float]]:
    """Each query encoded, then its ANN SQL run, as a request does: vectors, encode ms,
    SQL ms."""
    from search.inference.encoding import encode_query
    from search.inference.loading import embedder_for_index

    embedder = embedder_for_index(run.index)
    encode_query(embedder, text="warm up")
    vectors, encode_ms, sql_ms = [], [], []
    for text in texts:
        t = time.perf_counter()
        vectors.append(encode_query(embedder, text=text))
        encode_ms.append((time.perf_counter() - t) * 1000)
        sql_ms.append(ann_sql(run, vectors[-1])[1])
    return vectors, encode_ms, sql_ms


def ann_sql(
    run: Run, vector: np.ndarray, *, filters=None, exact: bool = False, ef_search: int | None = None
):
    """search.retrieval.vector.vector_candidates itself (the shipped SQL, limit and settings;
    `ef_search`: a mode's own, default vector-only search's); exact: the same statement with
    index scans off, i.e. a full scan and sort."""
    from django.db import connection, transaction

    from search.retrieval.vector import vector_candidates
    from search.services import MAX_CANDIDATES

    t = time.perf_counter()
    with transaction.atomic() if exact else nullcontext():
        if exact:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
        found = vector_candidates(
            index=run.index,
            query_vector=vector,
            limit=MAX_CANDIDATES,
            filters=filters,
            ef_search=ef_search,
        )
    return found, (time.perf_counter() - t) * 1000


def as_a_request(run: Run, embedder, text: str, **sql) -> tuple[list, float]:
    """What a search request does before ranking: encode the query, then the statement
    (ann_sql's options); the statement's results and milliseconds."""
    from search.inference.encoding import encode_query

    vector = encode_query(embedder, text=text)
    return ann_sql(run, vector, **sql)


def recall(found: list, truth: list, epsilon: float) -> float | None:
    """k-NN recall@10 (ann-benchmarks'): a result counts when its similarity is within
    `epsilon` of the exact 10th neighbour's, so near-duplicates that tie to that precision
    are interchangeable. None when the exact search found fewer than 10."""
    if len(truth) < 10:
        return None
    tenth = truth[9].retrieval_score  # similarity = 1 - distance
    return sum(c.retrieval_score >= tenth - epsilon for c in found[:10]) / 10


def measure_ann(
    run: Run,
    texts: list[str],
    *,
    curve: bool,
    filters=None,
    embedder=None,
    ef_search: int | None = None,
) -> dict:
    """Recall@10 and speed of the shipped ANN statement against the exact one, both as a
    request runs them, alternating query by query on the same queries. `embedder`: the
    queries' model when the index is not one a model made (--calibrate's); `ef_search`: the
    mode's (default: vector-only search's)."""
    from django.conf import settings

    from search.inference.loading import embedder_for_index

    embedder = embedder or embedder_for_index(run.index)
    ef_search = ef_search or settings.SEARCH_HNSW_EF_SEARCH
    sql = {"filters": filters, "ef_search": ef_search}
    for text in texts[:5]:  # warm the caches
        as_a_request(run, embedder, text, **sql)
        as_a_request(run, embedder, text, **sql, exact=True)
    exact, exact_ms, ann_ms, standard, strict = [], [], [], [], []
    for i, text in enumerate(texts):
        sides = (False, True) if i % 2 == 0 else (True, False)
        got = {}
        for is_exact in sides:
            got[is_exact] = as_a_request(run, embedder, text, **sql, exact=is_exact)
        exact.append(got[True][0])
        exact_ms.append(got[True][1])
        ann_ms.append(got[False][1])
        for out, eps in ((standard, RECALL_EPSILON), (strict, 1e-6)):
            r = recall(got[False][0], got[True][0], eps)
            if r is not None:
                out.append(r)
    out = {
        "queries": len(texts),
        "ef_search": ef_search,
        "recall_at_10": rnd(statistics.fmean(standard), 4) if standard else None,
        "recall_at_10_strict": rnd(statistics.fmean(strict), 4) if strict else None,
        "recall_queries": len(standard),
        "recall_epsilon": RECALL_EPSILON,
        "ann_p50_ms": rnd(p50(ann_ms)),
        "ann_p95_ms": rnd(percentile(ann_ms, 95)),
        "ann_p99_ms": rnd(percentile(ann_ms, 99)),
        "exact_p50_ms": rnd(p50(exact_ms)),
        "exact_p95_ms": rnd(percentile(exact_ms, 95)),
        "exact_p99_ms": rnd(percentile(exact_ms, 99)),
        "speedup_vs_exact": rnd(p50(exact_ms) / p50(ann_ms), 1),
        "measured": "per query: encode, then the statement (as a request); ANN and exact "
        "alternating query by query",
    }
    if curve:
        out["curve"] = [ef_point(run, embedder, texts, exact, ef) for ef in run.args.ef_curve]
    return out


def ef_point(run: Run, embedder, texts: list[str], exact: list, ef: int) -> dict:
    """Recall@10 (standard and strict) and p50 of the ANN statement at this ef_search."""
    standard, strict, times = [], [], []
    for text, truth in zip(texts, exact, strict=True):
        found, ms = as_a_request(run, embedder, text, ef_search=ef)
        times.append(ms)
        for out, eps in ((standard, RECALL_EPSILON), (strict, 1e-6)):
            r = recall(found, truth, eps)
            if r is not None:
                out.append(r)
    point = {
        "ef_search": ef,
        "recall_at_10": rnd(statistics.fmean(standard), 4) if standard else None,
        "recall_at_10_strict": rnd(statistics.fmean(strict), 4) if strict else None,
        "p50_ms": rnd(p50(times)),
    }
    log(f"  ef_search {ef:>4}: recall@10 {point['recall_at_10']} "
        f"(strict {point['recall_at_10_strict']}), p50 {point['p50_ms']} ms")  # fmt: skip
    return point


def explain_ann(run: Run, vector: np.ndarray) -> str:
    """EXPLAIN ANALYZE of the shipped ANN statement, caught as vector_candidates sends it
    (to check that the HNSW index is used and that no JIT compilation runs)."""
    from django.conf import settings
    from django.db import connection, transaction

    from search.retrieval.vector import vector_candidates
    from search.services import MAX_CANDIDATES

    captured: dict = {}

    def catch(execute, sql, params, many, context):
        # The statement comes composed (psycopg.sql); its text is what PostgreSQL receives.
        text = sql if isinstance(sql, str) else sql.as_string(context["cursor"].cursor)
        if "nearest" in text:
            # vector_candidates sends its set_config and the query as one message.
            captured.update(sql=text.split(";\n", 1)[-1], params=params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        vector_candidates(index=run.index, query_vector=vector, limit=MAX_CANDIDATES)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true)",
            [str(settings.SEARCH_HNSW_EF_SEARCH_HYBRID)],  # the default path's
        )
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured["sql"], captured["params"])
        return "\n".join(row[0] for row in cursor.fetchall())
