"""Phase 3, ann: recall@10 of the shipped ANN SQL (search.retrieval.vector.vector_candidates)
against the same SQL with index scans off (exact), its speedup, and the curve over
ef_search, at each scale point of the synthetic catalog."""

from __future__ import annotations

import statistics
import time

import numpy as np

from suite.common import log, p50, rnd
from suite.state import Run
from suite.synthetic import base_vectors, build_hnsw, grow_catalog, n_products, upsert_cost

RECALL_EPSILON = 1e-3  # ann-benchmarks' default for k-NN recall (on the distance)


def scale_and_ann(run: Run) -> int:
    """Phases 2 and 3: grow the synthetic catalog to each scale point (--small, then
    --products), measure the ANN leg at each, and at full size also pgvector's default
    graph when asked; the plan of the shipped statement. Returns the catalog's size."""
    a = run.args
    base = base_vectors(run, max(a.products // 10, 256))
    ann_texts = run.queries.take(a.ann_queries)
    ann_vectors, _ = encode_texts(run, ann_texts)
    scale = {}
    for target in sorted({min(a.small, a.products), a.products}):
        log(f"growing the catalog to {target:,} products (COPY, lexical, HNSW rebuild)")
        if target == a.products and a.compare_hnsw:
            # pgvector's default graph first, on the same vectors and queries.
            loaded = grow_catalog(run, target, base, build=False)
            built = build_hnsw(run, (16, 64))
            log(f"  HNSW m 16, ef_construction 64 (pgvector defaults): {built}")
            default = measure_ann(run, ann_vectors, curve=True)
            default["build"] = {k: rnd(v, 1) for k, v in built.items()}
            default["upsert_64_p50_ms"] = upsert_cost(run)
            log(f"  upsert of 64 vectors into this graph: p50 {default['upsert_64_p50_ms']} ms")
            build = {**loaded, **{k: rnd(v, 1) for k, v in build_hnsw(run).items()}}
        else:
            build = grow_catalog(run, target, base)
        n = n_products(run)
        log(f"  {n:,} products: {build}")
        ann = measure_ann(run, ann_vectors, curve=(target == a.products))
        ann["upsert_64_p50_ms"] = upsert_cost(run)
        log(f"  upsert of 64 vectors into the shipped graph: p50 {ann['upsert_64_p50_ms']} ms")
        scale[str(n)] = {"build": build, **{k: v for k, v in ann.items() if k != "curve"}}
        log(
            f"  recall@10 {ann['recall_at_10']}, ANN p50 {ann['ann_p50_ms']} ms, exact "
            f"p50 {ann['exact_p50_ms']} ms ({ann['speedup_vs_exact']}x)"
        )
    size = n_products(run)
    run.results["ann"] = {k: v for k, v in ann.items()}
    if a.compare_hnsw:
        from search.indexing.indexes import HNSW_EF_CONSTRUCTION, HNSW_M

        run.results["ann"]["hnsw"] = {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION}
        run.results["ann"]["pgvector_defaults"] = default
    run.results["ann"]["query_vectors"] = "all-MiniLM-L6-v2 encodings of distinct shopper queries"
    run.results["scale"] = scale
    run.results["synthetic"] = {
        "real_base_vectors": len(base[0]),
        "base_encoding": {k: rnd(v, 1) for k, v in (run.base_encode or {}).items()},
        "sigma": a.sigma,
        "recipe": "mixture of two real vectors of the same article type + Gaussian noise",
    }
    run.results["plan"] = explain_ann(run, ann_vectors[0])
    return size


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


def ann_sql(run: Run, vector: np.ndarray, *, filters=None, exact: bool = False):
    """search.retrieval.vector.vector_candidates itself (the shipped SQL, limit and settings);
    exact: the same statement with index scans off, i.e. a full scan and sort."""
    from django.db import connection, transaction

    from search.retrieval.vector import vector_candidates
    from search.services import MAX_CANDIDATES

    t = time.perf_counter()
    if exact:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            found = vector_candidates(
                index=run.index,
                query_vector=vector,
                limit=MAX_CANDIDATES,
                filters=filters,
            )
    else:
        found = vector_candidates(
            index=run.index,
            query_vector=vector,
            limit=MAX_CANDIDATES,
            filters=filters,
        )
    return found, (time.perf_counter() - t) * 1000


def recall_at_ef(
    run: Run, vectors: list[np.ndarray], exact: list, ef: int
) -> tuple[float, float, float]:
    """Recall@10 of the ANN leg at this ef_search against the exact top 10, two ways, and
    its p50 ms. Standard (ann-benchmarks' k-NN recall): a result counts when its cosine
    distance is within RECALL_EPSILON of the exact 10th neighbour's, so near-duplicates
    that tie to the third decimal are interchangeable. Strict: within 1e-6 (the same
    products, or exactly equal distances)."""
    from django.conf import settings

    shipped = settings.SEARCH_HNSW_EF_SEARCH
    settings.SEARCH_HNSW_EF_SEARCH = ef
    try:
        standard, strict, times = [], [], []
        for vector, truth in zip(vectors, exact, strict=True):
            found, ms = ann_sql(run, vector)
            times.append(ms)
            if len(truth) < 10:
                continue
            tenth = truth[9].retrieval_score  # similarity = 1 - distance
            top = found[:10]
            standard.append(sum(c.retrieval_score >= tenth - RECALL_EPSILON for c in top) / 10)
            strict.append(sum(c.retrieval_score >= tenth - 1e-6 for c in top) / 10)
        return statistics.fmean(standard), statistics.fmean(strict), p50(times)
    finally:
        settings.SEARCH_HNSW_EF_SEARCH = shipped


def measure_ann(run: Run, vectors: list[np.ndarray], *, curve: bool) -> dict:
    from django.conf import settings

    for v in vectors[:5]:  # warm the caches
        ann_sql(run, v)
        ann_sql(run, v, exact=True)
    exact, exact_ms = [], []
    for v in vectors:
        found, ms = ann_sql(run, v, exact=True)
        exact.append(found)
        exact_ms.append(ms)
    shipped = settings.SEARCH_HNSW_EF_SEARCH
    recall, strict, ann_ms = recall_at_ef(run, vectors, exact, shipped)
    out = {
        "queries": len(vectors),
        "ef_search": shipped,
        "recall_at_10": rnd(recall, 4),
        "recall_at_10_strict": rnd(strict, 4),
        "recall_epsilon": RECALL_EPSILON,
        "ann_p50_ms": rnd(ann_ms),
        "exact_p50_ms": rnd(p50(exact_ms)),
        "speedup_vs_exact": rnd(p50(exact_ms) / ann_ms, 1),
    }
    if curve:
        out["curve"] = []
        for ef in run.args.ef_curve:
            r, r_strict, ms = recall_at_ef(run, vectors, exact, ef)
            out["curve"].append({
                "ef_search": ef, "recall_at_10": rnd(r, 4),
                "recall_at_10_strict": rnd(r_strict, 4), "p50_ms": rnd(ms),
            })  # fmt: skip
            log(f"  ef_search {ef:>4}: recall@10 {r:.4f} (strict {r_strict:.4f}), "
                f"p50 {ms:.2f} ms")  # fmt: skip
    return out


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
            [str(settings.SEARCH_HNSW_EF_SEARCH)],
        )
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured["sql"], captured["params"])
        return "\n".join(row[0] for row in cursor.fetchall())
