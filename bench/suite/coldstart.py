"""Phase 8, cold start: the stack started the way `make run` starts it (python -m
config.stack run, on the bench's var dir, so on its catalog; VITRINE_DEMO=0: the catalog is
there already), then, as soon as it prints its ready banner, the first search (mode=hybrid,
the API's default), then --cold-start-requests more distinct searches for the warm p50.
`cold_start.ratio` = first search / warm p50. What the bench's phases left behind (recorded
searches waiting in the event buffer) is written before the stack starts.

It runs last: the bench's own webs and workers are stopped first (a fresh start shares the
machine with nothing of the bench), and the stack, when stopped, stops the embedded servers
of its var dir, the bench's."""

from __future__ import annotations

import json
import time

from suite.api import http_get, search_path
from suite.common import PY, log, p50, rnd
from suite.overhead import latency_figures
from suite.state import Run

READY = "Vitrine is up at"


def cold_start(run: Run) -> dict:
    a = run.args
    port = a.port + 4
    texts = run.queries.take(a.cold_start_requests + 1)
    run.children.stop_all()  # the bench's webs and workers: the stack brings its own
    from django.db import connections

    from search.insights.draining import drain_search_events

    # The bench's phases left thousands of recorded searches in the event buffer; the
    # stack's beat would write them on its first tick, beside the first search (0.6 s of
    # the worker and PostgreSQL at 17:14 on 2026-12-06). A shop's first run has none.
    drained = drain_search_events()
    log(f"cold start: {drained.searches} searches the earlier phases recorded, written first")
    connections.close_all()
    env = {**run.env, "VITRINE_PORT": str(port), "VITRINE_HOST": "127.0.0.1", "VITRINE_DEMO": "0"}
    log_path = run.root / "log" / "stack.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    started = time.monotonic()
    run.children.start("stack", [PY, "-m", "config.stack", "run"], env)
    deadline = started + a.cold_start_timeout
    while True:
        run.children.check("stack")
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            if READY in handle.read():
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stack printed no ready banner in {a.cold_start_timeout} s")
        time.sleep(0.05)
    ready_s = time.monotonic() - started
    log(f"cold start: the stack says it is ready after {ready_s:.1f} s")
    status, body, first_ms = http_get(port, search_path(texts[0]), timeout=120)
    if status != 200:
        raise RuntimeError(f"the first search after the stack was ready answered {status}")
    # The server's own timings beside the client's: what the web spent, and in which stage,
    # against what the request waited for outside it.
    first_server = json.loads(body)["timings_ms"]
    warm, warm_server, errors = [], [], 0
    for text in texts[1:]:
        status, body, ms = http_get(port, search_path(text), timeout=120)
        if status == 200:
            warm.append(ms)
            warm_server.append(json.loads(body)["timings_ms"]["total"])
        else:
            errors += 1
    run.children.stop("stack", grace=60)  # it stops its children, then the servers
    figures = latency_figures(warm, "warm_")
    log(f"cold start: first search {first_ms:.0f} ms (server {first_server}), warm {figures}")
    return {
        "how": "python -m config.stack run (as make run), VITRINE_DEMO=0, on the bench's "
        "catalog; first search right after the ready banner; mode=hybrid (the default)",
        "ready_s": rnd(ready_s, 1),
        "first_search_ms": rnd(first_ms, 1),
        **figures,
        "first_search_server_ms": {k: rnd(v, 1) for k, v in first_server.items()},
        "warm_server_total_p50_ms": rnd(p50(warm_server)) if warm else None,
        "warm_requests": len(warm),
        "errors": errors,
        "ratio": rnd(first_ms / figures["warm_p50_ms"], 2) if warm else None,
    }
