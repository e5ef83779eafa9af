"""Search-as-you-type in this process: latency and CPU of one suggestion, the selector alone
and through the API (Django's test client: no HTTP), on the bench's prefixes (the first 2-6
letters of its queries, as bench/suite/suggest.py sends them), each distinct, so no cached
answer is served. CPU is this process's plus its PostgreSQL backend's, read from
/proc/<pid>/schedstat (ns), which hardly moves when the machine is shared.

    .venv/bin/python bench/suggest_cpu.py [--var-dir /tmp/vt-bench] [--reps 3]

Uses the database in --var-dir (as `make bench` leaves it: its 100k catalog) and rebuilds the
suggestions first, as the bench's phase does. Linux only."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from suite.common import QueryTexts  # noqa: E402
from suite.suggest import prefixes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var-dir", default="/tmp/vt-bench")
    parser.add_argument("--prefixes", type=int, default=300, help="at most this many")
    parser.add_argument("--reps", type=int, default=3, help="times each prefix is asked")
    args = parser.parse_args()
    os.environ.update(
        VITRINE_VAR_DIR=args.var_dir,
        VITRINE_ANALYTICS="0",
        VITRINE_SUGGEST_CACHE_S="0",  # every request is answered, as a distinct prefix is
        VITRINE_SUGGEST_THROTTLE="100000000/min",
    )
    from config.bootstrap import bootstrap

    bootstrap()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from search.indexing.suggestions import refresh_suggestions
    from search.suggest import selectors

    started = time.perf_counter()
    rows = refresh_suggestions()
    print(f"suggestions rebuilt: {rows} rows in {time.perf_counter() - started:.1f} s")
    asked = prefixes(QueryTexts().take(args.prefixes * 2))[: args.prefixes]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def backend_ns() -> int:
        return int(Path(f"/proc/{backend}/schedstat").read_text().split()[0])

    client = Client()
    sides = {
        "selector": lambda prefix: selectors._suggest(prefix, 8, ""),
        "api": lambda prefix: client.get("/api/v1/suggest", {"q": prefix, "limit": 8}),
    }
    for ask in sides.values():
        ask("warm up")
    wall: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    for rep in range(args.reps):
        for i, prefix in enumerate(asked):
            order = list(sides) if (i + rep) % 2 == 0 else list(sides)[::-1]
            for side in order:
                db, web, began = backend_ns(), time.thread_time_ns(), time.perf_counter()
                sides[side](prefix)
                wall[side].append((time.perf_counter() - began) * 1000)
                cpu[side].append((backend_ns() - db + time.thread_time_ns() - web) / 1e6)
    print(f"{len(asked)} distinct prefixes x {args.reps}")
    for side in sides:
        print(
            f"{side:8s} wall p50 {p(wall[side], 50):6.2f} p95 {p(wall[side], 95):6.2f}"
            f" p99 {p(wall[side], 99):6.2f} ms   CPU (web+db) p50 {p(cpu[side], 50):6.2f}"
            f" p95 {p(cpu[side], 95):6.2f} ms"
        )


def p(values: list[float], q: int) -> float:
    if q == 50:
        return statistics.median(values)
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1)]


if __name__ == "__main__":
    main()
