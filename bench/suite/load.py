"""Phase 6, load: wrk, --clients connections on loopback, every request a distinct query
(mode=vector, then hybrid); then the memory of the web and the worker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import psutil

from suite.api import search_path
from suite.common import BENCH, log, rnd
from suite.servers import rss_mb
from suite.state import Run


def load_and_memory(run: Run) -> None:
    a = run.args
    run.results["load"] = load(run, a.port, mode="vector", seconds=a.load_seconds)
    log(f"load: {run.results['load']}")
    if a.hybrid_load_seconds:
        run.results["load_hybrid"] = load(run, a.port, mode="hybrid", seconds=a.hybrid_load_seconds)
        log(f"load, hybrid: {run.results['load_hybrid']}")
    web = rss_mb(run.children.procs["web"].pid)
    worker = rss_mb(run.children.procs["worker"].pid)
    run.results["memory"] = {
        "web_rss_mb": web["rss_mb"],
        "web_pss_mb": web["pss_mb"],
        "web_processes_rss_mb": web["per_process"],
        "worker_rss_mb": worker["rss_mb"],
        "worker_pss_mb": worker["pss_mb"],
        "worker_processes_rss_mb": worker["per_process"],
    }


def load(run: Run, port: int, *, mode: str, seconds: int) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        return {"skipped": "wrk is not installed (apt-get install -y wrk)"}
    texts = run.queries.take(run.args.load_queries)
    paths_file = run.root / f"wrk-paths-{mode}.txt"
    paths_file.write_text("\n".join(search_path(t, mode=mode) for t in texts) + "\n")
    threads = 2
    args = [wrk, f"-t{threads}", f"-c{run.args.clients}", f"-d{seconds}s"]
    args += ["--timeout", "30s", "-s", str(BENCH / "wrk_search.lua")]
    args += [f"http://127.0.0.1:{port}", "--", str(paths_file), str(threads)]
    log(f"load: {' '.join(args[1:])}")
    loadavg_before = os.getloadavg()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    drain(run, port)
    (run.root / "log" / f"wrk-{mode}.log").write_text(proc.stdout + proc.stderr)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    w = json.loads(line.removeprefix("WRK_JSON "))
    seconds = w["duration_us"] / 1e6
    errors = w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
    errors += max(w["status_errors"], w["non200"])
    return {
        "tool": "wrk 4 (" + " ".join(args[1:6]) + ")",
        "clients": run.args.clients,
        "seconds": rnd(seconds, 1),
        "mode": f"{mode}, every query distinct (no cache hits)",
        "requests": w["requests"],
        "distinct_queries_sent": min(w["requests"], len(texts)),
        "rps": rnd(w["requests"] / seconds, 1),
        "p50_ms": rnd(w["p50_us"] / 1000, 1),
        "p95_ms": rnd(w["p95_us"] / 1000, 1),
        "p99_ms": rnd(w["p99_us"] / 1000, 1),
        "max_ms": rnd(w["max_us"] / 1000, 1),
        "errors": errors,
        "load_average_before": [rnd(x) for x in loadavg_before],
        "load_average_after": [rnd(x) for x in os.getloadavg()],
    }


def drain(run: Run, port: int, timeout: float = 90.0) -> None:
    """After wrk stops, the web still works off the requests it had accepted: wait until
    its processes are idle so the next phase does not share the CPUs with them."""
    name = "web" if port == run.args.port else "web-remote"
    root = psutil.Process(run.children.procs[name].pid)
    procs = [root, *root.children(recursive=True)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(sum(p.cpu_times()[:2]) for p in procs)
        time.sleep(1.0)
        if sum(sum(p.cpu_times()[:2]) for p in procs) - before < 0.05:
            return
