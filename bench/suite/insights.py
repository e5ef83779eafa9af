"""Phase 6b, insights: what recording search insights costs a search. The same hybrid
queries go to two webs on the same database, one recording (the bench's `web`, as shipped)
and one with VITRINE_ANALYTICS=0, alternated request by request (which goes first swaps
each time, so neither always finds PostgreSQL's pages warm from the other).

The second web caches in another Redis database of the same server (db 1): sharing the
first's cache, it would be answered the ranking its twin just cached. Each query is new to
each web, so both rank every query in full."""

from __future__ import annotations

import json

from suite.api import http_get, search_path
from suite.common import p50, percentile, rnd
from suite.servers import redis_db
from suite.state import Run

OFF = "web-insights-off"


def insights_overhead(run: Run) -> dict:
    """Starts the web without recording beside the bench's `web` (recording), measures,
    stops it; the figures for bench/results/latest.json's `insights`."""
    a = run.args
    port_off = a.port + 2
    run.start_web(
        OFF,
        port_off,
        workers=a.workers,
        remote=False,
        env={"VITRINE_ANALYTICS": "0", "REDIS_URL": redis_db(run.env["REDIS_URL"], 1)},
    )
    try:
        texts = run.queries.take(a.insights_requests)
        timed = alternate(texts, on_port=a.port, off_port=port_off)
    finally:
        run.children.stop(OFF)
    return overhead_figures(**timed)


def alternate(texts: list[str], *, on_port: int, off_port: int) -> dict[str, list]:
    """Each query to both webs, the first to go alternating; client-side milliseconds, the
    server's own total, and whether each answer carried a search_id."""
    out: dict[str, list] = {k: [] for k in ("on_ms", "off_ms", "on_server_ms", "off_server_ms")}
    out["on_ids"], out["off_ids"], out["errors"] = [], [], []
    for i, text in enumerate(texts):
        order = [("on", on_port), ("off", off_port)]
        for side, port in order if i % 2 == 0 else order[::-1]:
            status, body, ms = http_get(port, search_path(text, mode="hybrid"))
            if status != 200:
                out["errors"].append(f"{side} {status}")
                continue
            data = json.loads(body)
            out[f"{side}_ms"].append(ms)
            out[f"{side}_server_ms"].append(data["timings_ms"]["total"])
            out[f"{side}_ids"].append(data.get("search_id") is not None)
    return out


def overhead_figures(
    *,
    on_ms: list[float],
    off_ms: list[float],
    on_server_ms: list[float],
    off_server_ms: list[float],
    on_ids: list[bool],
    off_ids: list[bool],
    errors: list[str],
) -> dict:
    """`overhead_ratio` = hybrid p50 with recording on / off (client side, each request
    timed from connect to the last byte)."""
    return {
        "mode": "hybrid, every query distinct, sent to both webs, first one alternating",
        "requests_per_side": len(on_ms),
        "p50_ms_on": rnd(p50(on_ms)),
        "p50_ms_off": rnd(p50(off_ms)),
        "p95_ms_on": rnd(percentile(on_ms, 95)),
        "p95_ms_off": rnd(percentile(off_ms, 95)),
        "p99_ms_on": rnd(percentile(on_ms, 99)),
        "p99_ms_off": rnd(percentile(off_ms, 99)),
        "overhead_ratio": rnd(p50(on_ms) / p50(off_ms), 3),
        "server_total_p50_ms_on": rnd(p50(on_server_ms)),
        "server_total_p50_ms_off": rnd(p50(off_server_ms)),
        # Proof that one side recorded and the other did not.
        "recorded_on": sum(on_ids),
        "recorded_off": sum(off_ids),
        "errors": len(errors),
    }
