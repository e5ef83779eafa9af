"""Phase 7, remote: the same query encoded by the `query` worker (VITRINE_REMOTE_INFERENCE)
against in-process encoding, and the API served by a web process that holds no model."""

from __future__ import annotations

import time

import numpy as np

from suite.ann import encode_texts
from suite.api import api_latency
from suite.common import p50, percentile, rnd
from suite.servers import query_worker_args, rss_mb
from suite.state import Run


def remote(run: Run) -> dict:
    from search.inference.remote import RemoteInference

    encoder = RemoteInference()
    env = dict(run.env, VITRINE_WORKER_PRELOAD_MODELS="1")
    run.children.start("query-worker", query_worker_args(), env)
    deadline = time.monotonic() + 180
    while True:  # until the worker answers (it loads the model after fork)
        run.children.check("query-worker")
        try:
            encoder.encode_query(run.index, text="warm up", photo=None)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    texts = run.queries.take(run.args.requests)
    for text in ["warm", "up", "again"]:
        encoder.encode_query(run.index, text=text, photo=None)
    local_vectors, local_ms = encode_texts(run, texts)
    remote_ms, max_diff = [], 0.0
    for text, local in zip(texts, local_vectors, strict=True):
        t = time.perf_counter()
        vector = encoder.encode_query(run.index, text=text, photo=None)
        remote_ms.append((time.perf_counter() - t) * 1000)
        max_diff = max(max_diff, float(np.abs(vector - local).max()))
    run.start_web("web-remote", run.args.port + 1, workers=run.args.workers, remote=True)
    api_remote = api_latency(run.args.port + 1, run.queries.take(run.args.requests), mode="vector")
    api_local = api_latency(run.args.port, run.queries.take(run.args.requests), mode="vector")
    rss = rss_mb(run.children.procs["web-remote"].pid)
    rss_query_worker = rss_mb(run.children.procs["query-worker"].pid)
    return {
        "encode_in_process_p50_ms": rnd(p50(local_ms)),
        "encode_remote_p50_ms": rnd(p50(remote_ms)),
        "encode_remote_p95_ms": rnd(percentile(remote_ms, 95)),
        "encode_remote_p99_ms": rnd(percentile(remote_ms, 99)),
        "added_latency_p50_ms": rnd(p50(remote_ms) - p50(local_ms)),
        "max_abs_difference": float(f"{max_diff:.3g}"),
        "api_vector_p50_ms_remote": api_remote["p50_ms"],
        "api_vector_p50_ms_in_process": api_local["p50_ms"],
        "api_added_latency_p50_ms": rnd(api_remote["p50_ms"] - api_local["p50_ms"]),
        "api_vector_p95_ms_remote": api_remote["p95_ms"],
        "api_vector_p99_ms_remote": api_remote["p99_ms"],
        "api_errors_remote": api_remote["errors"],
        "web_rss_mb_no_model": rss["rss_mb"],
        "web_pss_mb_no_model": rss["pss_mb"],
        "query_worker_rss_mb": rss_query_worker["rss_mb"],
    }
