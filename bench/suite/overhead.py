"""Phase 4, search: the HTTP API (mode=vector) against what a request cannot avoid (encode
the query, then its ANN SQL), and hybrid against vector, each pair measured one way
(docs/BENCHMARKS.md, "One rule for every ratio"): both sides as a request does it, on the
same distinct queries, alternating query by query in the same phase, which side goes first
swapping each time.

Hybrid and vector go to two identical webs (`web` and `web-twin`, each with its own Redis
database), the mode each web serves swapping query by query: sent to one web twice, the
second request would find the query's vector in the cache the first left there."""

from __future__ import annotations

import json
import time

from suite.ann import ann_sql
from suite.api import http_get, search_path
from suite.common import log, p50, percentile, rnd
from suite.servers import redis_db
from suite.state import Run

TWIN = "web-twin"


def latency_figures(ms: list[float], prefix: str = "") -> dict:
    return {
        f"{prefix}p50_ms": rnd(p50(ms)),
        f"{prefix}p95_ms": rnd(percentile(ms, 95)),
        f"{prefix}p99_ms": rnd(percentile(ms, 99)),
    }


def start_webs(run: Run) -> None:
    """The bench's `web` (--port) and its twin (--port + 3, Redis database 2)."""
    a = run.args
    run.start_web("web", a.port, workers=a.workers, remote=False)
    twin_env = {"REDIS_URL": redis_db(run.env["REDIS_URL"], 2)}
    run.start_web(TWIN, a.port + 3, workers=a.workers, remote=False, env=twin_env)


def search(run: Run, *, n_products: int) -> None:
    a = run.args
    start_webs(run)
    run.results["search"] = api_overhead(run, run.queries.take(a.requests))
    run.results["search"]["n_products"] = n_products
    hybrid = hybrid_against_vector(run, run.queries.take(a.hybrid_requests))
    run.results["search"]["hybrid"] = hybrid
    run.results["hybrid"] = {
        "ratio_vs_vector": hybrid["ratio_vs_vector"],
        "p50_ms": hybrid["p50_ms"],
        "vector_p50_ms": hybrid["vector_p50_ms"],
    }
    log(f"search: {run.results['search']}")


def api_overhead(run: Run, texts: list[str]) -> dict:
    """Per query: the API (mode=vector) on `web`, and in this process its encoding then its
    ANN SQL; which goes first alternates. `overhead_ratio` = API p50 / (encode + SQL) p50."""
    from search.inference.encoding import encode_query
    from search.inference.loading import embedder_for_index

    embedder = embedder_for_index(run.index)
    encode_query(embedder, text="warm up")
    api, floor, encode_ms, sql_ms, server = (
        [],
        [],
        [],
        [],
        {"total": [], "encode": [], "retrieve": []},
    )
    errors = 0
    for i, text in enumerate(texts):
        for side in ("api", "floor") if i % 2 == 0 else ("floor", "api"):
            if side == "floor":
                t = time.perf_counter()
                vector = encode_query(embedder, text=text)
                encode_ms.append((time.perf_counter() - t) * 1000)
                sql_ms.append(ann_sql(run, vector)[1])
                floor.append(encode_ms[-1] + sql_ms[-1])
                continue
            status, body, ms = http_get(run.args.port, search_path(text, mode="vector"))
            if status != 200:
                errors += 1
                continue
            api.append(ms)
            timings = json.loads(body)["timings_ms"]
            for key in server:
                server[key].append(timings[key])
    return {
        "requests": len(texts),
        "encode_p50_ms": rnd(p50(encode_ms)),
        "sql_p50_ms": rnd(p50(sql_ms)),
        "floor_p50_ms": rnd(p50(floor)),
        **latency_figures(api, "api_"),
        "overhead_ratio": rnd(p50(api) / p50(floor), 2),
        "measured": "per query: the API (mode=vector) and, in-process, encode then its ANN "
        "SQL, alternating (first one swapping)",
        "api_errors": errors,
        "api_server_total_p50_ms": rnd(p50(server["total"])),
        "api_server_encode_p50_ms": rnd(p50(server["encode"])),
        "api_server_retrieve_p50_ms": rnd(p50(server["retrieve"])),
        "mode": "vector, distinct query per request (no ranking/query-vector cache hits)",
        "denominator": "per query: encode, then its ANN SQL, in one process, as a request",
        "vectors": "the embedder's own, of each product's document (suite.vectors)",
    }


def hybrid_against_vector(run: Run, texts: list[str]) -> dict:
    """Per query: mode=hybrid on one web and mode=vector on the other (the webs swap each
    query, so each sees a query once), the first request alternating."""
    from search.retrieval.lexical import lexical_candidates

    a = run.args
    ports = (a.port, a.port + 3)
    ms: dict[str, list[float]] = {"hybrid": [], "vector": []}
    results: dict[str, list[int]] = {"hybrid": [], "vector": []}
    server: dict[str, list[float]] = {"total": [], "encode": [], "retrieve": []}
    errors = 0
    for i, text in enumerate(texts):
        pairs = [("hybrid", ports[i % 2]), ("vector", ports[1 - i % 2])]
        for mode, port in pairs if (i // 2) % 2 == 0 else pairs[::-1]:
            status, body, took = http_get(port, search_path(text, mode=mode))
            if status != 200:
                errors += 1
                continue
            data = json.loads(body)
            ms[mode].append(took)
            results[mode].append(len(data["results"]))
            if mode == "hybrid":
                for key in server:
                    server[key].append(data["timings_ms"][key])
    lexical_ms = []
    for text in texts[: max(5, len(texts) // 3)]:
        t = time.perf_counter()
        lexical_candidates(query=text, limit=200)
        lexical_ms.append((time.perf_counter() - t) * 1000)
    return {
        "requests": len(texts),
        **latency_figures(ms["hybrid"]),
        **latency_figures(ms["vector"], "vector_"),
        "ratio_vs_vector": rnd(p50(ms["hybrid"]) / p50(ms["vector"]), 2),
        "errors": errors,
        "results_mean": rnd(sum(results["hybrid"]) / max(1, len(results["hybrid"])), 1),
        "lexical_sql_p50_ms": rnd(p50(lexical_ms)),
        **{f"server_{key}_p50_ms": rnd(p50(values)) for key, values in server.items()},
        "measured": "per query: hybrid and vector on twin webs (swapping), first alternating",
    }
