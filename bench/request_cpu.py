"""CPU per search request, web process and its PostgreSQL backend apart, by mode and by
statement: what bounds throughput on a machine whose cores both serve (unlike latency, CPU
time hardly moves when the machine is shared, so it can be read on a busy machine).

    .venv/bin/python bench/request_cpu.py [--var-dir /tmp/vt-bench] [--queries 80]

Uses the database in --var-dir (as `make bench` leaves it: its 100k catalog), sends the
same distinct queries in each mode, alternating which mode goes first, through the API in
this process (Django's test client: no HTTP), with the results cache and insights off so
every request ranks. Prints mean CPU ms per request (web = this process's, db = the
backend's, read from /proc) and the statements of one mode by their backend CPU. Linux only.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from suite.common import QueryTexts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var-dir", default="/tmp/vt-bench")
    parser.add_argument("--queries", type=int, default=80)
    parser.add_argument("--modes", nargs="+", default=["vector", "hybrid"])
    parser.add_argument("--statements-of", default="hybrid", help="mode whose statements to list")
    args = parser.parse_args()
    os.environ.update(
        VITRINE_VAR_DIR=args.var_dir,
        VITRINE_ANALYTICS="0",
        VITRINE_ANON_THROTTLE="1000000/min",
        VITRINE_WEB_PRELOAD_MODELS="0",
        # One connection a request, so its backend's CPU is the request's (run apart, the
        # keyword leg would spend its CPU on another backend; the sum is the same).
        VITRINE_PARALLEL_LEGS="0",
    )
    from config.bootstrap import bootstrap

    bootstrap()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from search import results_cache

    results_cache.RESULTS_CACHE_S = 0  # every request ranks (the bench's queries are distinct)
    client = Client()
    client.get("/api/v1/search", {"q": "warm up", "mode": "hybrid"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def backend_cpu() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    per_mode: dict[str, list[tuple[float, float]]] = defaultdict(list)
    statements: dict[str, list[float]] = defaultdict(list)
    listing = {"on": False}

    def timed(execute, sql, params, many, context):
        before = backend_cpu()
        try:
            return execute(sql, params, many, context)
        finally:
            if listing["on"]:
                statements[" ".join(sql.split())[:100]].append(backend_cpu() - before)

    rng = random.Random(7)
    queries = QueryTexts(seed=11).take(args.queries)
    with connection.execute_wrapper(timed):
        for text in queries:
            modes = list(args.modes)
            rng.shuffle(modes)
            for mode in modes:
                listing["on"] = mode == args.statements_of
                web, db = time.process_time(), backend_cpu()
                response = client.get("/api/v1/search", {"q": text, "mode": mode})
                if response.status_code != 200:
                    sys.exit(f"{mode} {text!r}: HTTP {response.status_code}")
                per_mode[mode].append((time.process_time() - web, backend_cpu() - db))
    n = len(queries)
    for mode, samples in per_mode.items():
        web = sum(w for w, _ in samples) / n * 1000
        db = sum(d for _, d in samples) / n * 1000
        print(f"{mode:8s} web {web:6.1f} ms + db {db:6.1f} ms = {web + db:6.1f} ms CPU a request")
    print(f"\n{args.statements_of}: backend CPU a request, by statement")
    for sql, cpu in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {sum(cpu) / n * 1000:6.1f} ms  x{len(cpu) / n:.1f}  {sql}")


if __name__ == "__main__":
    main()
