"""The search API as a shopper's client sees it: one GET per connection, timed."""

from __future__ import annotations

import http.client
import json
import statistics
import time
import urllib.parse
from collections.abc import Callable

from suite.common import QueryTexts, p50, percentile, rnd


def http_get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes, float]:
    """One GET on a fresh connection (gunicorn's sync workers close after each response);
    returns status, body and the client-side milliseconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def search_path(query: str, **params) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": query, "page_size": 20, **params})


def wait_for_search(port: int, proc_check: Callable[[], None], timeout: float = 180.0) -> None:
    """Until the web answers a vector search (its workers loaded the model and the index)."""
    deadline = time.monotonic() + timeout
    warm = QueryTexts(seed=99).take(1000)  # never used for measurements
    i = ok = 0
    while True:
        proc_check()
        try:
            status, _, _ = http_get(port, search_path(warm[i % 1000], mode="vector"), 60)
            ok = ok + 1 if status == 200 else 0
        except OSError:
            ok = 0
        i += 1
        if ok >= 12:  # every worker has answered a few (the first one per worker loads)
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the web on port {port} did not answer searches in {timeout} s")
        time.sleep(0.05 if ok else 0.5)


def api_latency(port: int, texts: list[str], **params) -> dict:
    """One search per text, in sequence: client-side p50/p95 and the server's own timings."""
    client, server, timings = [], [], {"encode": [], "retrieve": []}
    errors = 0
    counts = []
    for text in texts:
        status, body, ms = http_get(port, search_path(text, **params))
        if status != 200:
            errors += 1
            continue
        data = json.loads(body)
        client.append(ms)
        server.append(data["timings_ms"]["total"])
        for k in timings:
            timings[k].append(data["timings_ms"][k])
        counts.append(len(data["results"]))
    return {
        "requests": len(texts),
        "errors": errors,
        "p50_ms": rnd(p50(client)),
        "p95_ms": rnd(percentile(client, 95)),
        "p99_ms": rnd(percentile(client, 99)),
        "server_total_p50_ms": rnd(p50(server)),
        "server_encode_p50_ms": rnd(p50(timings["encode"])),
        "server_retrieve_p50_ms": rnd(p50(timings["retrieve"])),
        "results_mean": rnd(statistics.fmean(counts) if counts else 0, 2),
    }
