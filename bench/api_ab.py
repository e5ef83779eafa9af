"""A/B of the search API's latency between checkouts, on the database `make bench` left.

    .venv/bin/python bench/api_ab.py /path/to/old-checkout /path/to/new-checkout [--rounds 2]

Starts the bench's embedded PostgreSQL + Redis in --var-dir (default /tmp/vt-bench, as
`make bench` leaves it), measures in-process encode + ANN SQL per query (the overhead
ratio's denominator), then serves each checkout in turn with gunicorn (2 sync workers, as the
bench) and times distinct searches over HTTP (mode=vector, or --mode hybrid|lexical). Rounds
alternate the order so a change in machine load hits both sides. Prints p50s per round;
nothing is written."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from suite.api import http_get, search_path, wait_for_search  # noqa: E402
from suite.common import QueryTexts  # noqa: E402
from suite.servers import child_env, gunicorn_args  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--var-dir", default="/tmp/vt-bench")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--seed", type=int, default=1234, help="query order (distinct queries)")
    parser.add_argument("--mode", default="vector", choices=["vector", "hybrid", "lexical"])
    args = parser.parse_args()

    from config import embedded

    var = Path(args.var_dir)
    if not (var / "pg").is_dir():
        raise SystemExit(f"no bench database in {var}: run `make bench` first")
    env = child_env(
        var, embedded.ensure_postgres(var), embedded.ensure_redis(var, stop_at_exit=False), "1"
    )
    os.environ.update(env)
    import django
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # no cached rankings or vectors
    django.setup()
    import torch

    torch.set_num_threads(1)
    from django.db import connections

    from search.indexing.indexes import active_index
    from search.inference.encoding import encode_query
    from search.inference.loading import embedder_for_index
    from search.retrieval.vector import vector_candidates

    queries = QueryTexts(seed=args.seed)
    index = active_index()
    embedder = embedder_for_index(index)
    encode_query(embedder, text="warm up")
    encode_ms, sql_ms = [], []
    for text in queries.take(args.requests):
        t = time.perf_counter()
        vector = encode_query(embedder, text=text)
        encode_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        vector_candidates(index=index, query_vector=vector, limit=200)
        sql_ms.append((time.perf_counter() - t) * 1000)
    denominator = statistics.median(encode_ms) + statistics.median(sql_ms)
    print(
        f"in-process p50: encode {statistics.median(encode_ms):.2f} + ANN SQL "
        f"{statistics.median(sql_ms):.2f} = {denominator:.2f} ms",
        flush=True,
    )
    connections.close_all()

    results: dict[Path, list[float]] = {c: [] for c in args.checkouts}
    for r in range(args.rounds):
        for checkout in args.checkouts if r % 2 == 0 else args.checkouts[::-1]:
            results[checkout].append(serve_and_time(checkout, env, args, queries))
            api = results[checkout][-1]
            print(
                f"round {r + 1} {checkout}: API p50 {api:.2f} ms, ratio "
                f"{api / denominator:.2f} (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    for checkout, values in results.items():
        print(f"{checkout}: API p50 per round {[round(v, 2) for v in values]}")
    return 0


def serve_and_time(checkout: Path, env: dict, args, queries: QueryTexts) -> float:
    """gunicorn on this checkout's code; the p50 of distinct searches in --mode."""
    log = open(Path(args.var_dir) / "log" / "api_ab-gunicorn.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(
        gunicorn_args(args.port, workers=2),
        cwd=checkout,
        env={**env, "PYTHONPATH": str(checkout)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_search(args.port, lambda: None)
        times = []
        for text in queries.take(args.requests):
            status, body, ms = http_get(args.port, search_path(text, mode=args.mode))
            if status != 200:
                raise SystemExit(f"{checkout}: HTTP {status}: {body[:300]!r}")
            json.loads(body)
            times.append(ms)
        return statistics.median(times)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        log.close()


if __name__ == "__main__":
    raise SystemExit(main())
