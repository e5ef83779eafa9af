"""Phase 6, load: wrk, --clients connections on loopback, every request a distinct query,
mode=vector and mode=hybrid in alternating rounds (docs/BENCHMARKS.md, "One rule for every
ratio"): round r sends slice r of the queries to both modes, each to one of the twin webs
(the webs swap modes each round, and which mode goes first swaps too), so each web sees a
query once and the two modes share the machine's moods. Then the memory of the web and the
worker.

wrk reports percentiles per run: over the rounds, p50 is the median of the rounds' p50s and
p95/p99/max the largest of theirs (the slowest round's tail), throughput is all requests over
all seconds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import psutil

from suite.api import search_path
from suite.common import BENCH, log, p50, rnd
from suite.overhead import TWIN
from suite.servers import rss_mb
from suite.state import Run


def load_and_memory(run: Run) -> None:
    a = run.args
    rounds: dict[str, list[dict]] = {"vector": [], "hybrid": []}
    seconds = max(1, round(a.load_seconds / a.load_rounds))
    per_round = max(1, a.load_queries // a.load_rounds)
    for r in range(a.load_rounds):
        texts = run.queries.take(per_round)
        webs = {"vector": (a.port, "web"), "hybrid": (a.port + 3, TWIN)}
        if r % 2:
            webs = {"vector": webs["hybrid"], "hybrid": webs["vector"]}
        for mode in ("vector", "hybrid") if r % 2 == 0 else ("hybrid", "vector"):
            port, name = webs[mode]
            rounds[mode].append(load(run, port, name, texts, mode=mode, seconds=seconds))
            log(f"load round {r + 1}, {mode}: {rounds[mode][-1]}")
    run.results["load"] = combine(run, rounds["vector"], "vector")
    run.results["load_hybrid"] = combine(run, rounds["hybrid"], "hybrid")
    hybrid, vector = run.results["load_hybrid"], run.results["load"]
    run.results.setdefault("hybrid", {}).update({
        "load_rps": hybrid["rps"],
        "load_ratio_vs_vector": rnd(hybrid["rps"] / vector["rps"], 3) if vector["rps"] else None,
        "load_errors": hybrid["errors"],
        "load_p50_ms": hybrid["p50_ms"],
        "load_p99_ms": hybrid["p99_ms"],
        "p99_over_p50": rnd(hybrid["p99_ms"] / hybrid["p50_ms"], 2) if hybrid["p50_ms"] else None,
    })  # fmt: skip
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


def combine(run: Run, rounds: list[dict], mode: str) -> dict:
    seconds = sum(r["seconds"] for r in rounds)
    requests = sum(r["requests"] for r in rounds)
    return {
        "tool": rounds[0]["tool"],
        "clients": run.args.clients,
        "rounds": len(rounds),
        "seconds": rnd(seconds, 1),
        "mode": f"{mode}, every query distinct (no cache hits), rounds alternating with the "
        "other mode on the same queries",
        "requests": requests,
        "rps": rnd(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": rnd(p50([r["p50_ms"] for r in rounds]), 1),
        "p95_ms": max(r["p95_ms"] for r in rounds),
        "p99_ms": max(r["p99_ms"] for r in rounds),
        "max_ms": max(r["max_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "distinct_queries_sent": sum(r["distinct_queries_sent"] for r in rounds),
        "load_average_before": rounds[0]["load_average_before"],
        "load_average_after": rounds[-1]["load_average_after"],
        "per_round": rounds,
    }


def load(run: Run, port: int, name: str, texts: list[str], *, mode: str, seconds: int) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:  # run_bench checks first; a bench without wrk cannot judge its load goals
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    paths_file = run.root / f"wrk-paths-{mode}.txt"
    paths_file.write_text("\n".join(search_path(t, mode=mode) for t in texts) + "\n")
    threads = 2
    args = [wrk, f"-t{threads}", f"-c{run.args.clients}", f"-d{seconds}s"]
    args += ["--timeout", "30s", "-s", str(BENCH / "wrk_search.lua")]
    args += [f"http://127.0.0.1:{port}", "--", str(paths_file), str(threads)]
    loadavg_before = os.getloadavg()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    drain(run, name)
    with open(run.root / "log" / f"wrk-{mode}.log", "a") as handle:
        handle.write(proc.stdout + proc.stderr)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    w = json.loads(line.removeprefix("WRK_JSON "))
    took = w["duration_us"] / 1e6
    errors = w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
    errors += max(w["status_errors"], w["non200"])
    return {
        "tool": "wrk 4 (" + " ".join(args[1:6]) + ")",
        "web": name,
        "seconds": rnd(took, 1),
        "requests": w["requests"],
        "distinct_queries_sent": min(w["requests"], len(texts)),
        "rps": rnd(w["requests"] / took, 1),
        "p50_ms": rnd(w["p50_us"] / 1000, 1),
        "p95_ms": rnd(w["p95_us"] / 1000, 1),
        "p99_ms": rnd(w["p99_us"] / 1000, 1),
        "max_ms": rnd(w["max_us"] / 1000, 1),
        "errors": errors,
        "load_average_before": [rnd(x) for x in loadavg_before],
        "load_average_after": [rnd(x) for x in os.getloadavg()],
    }


def drain(run: Run, name: str, timeout: float = 90.0) -> None:
    """After wrk stops, the web still works off the requests it had accepted: wait until
    its processes are idle so the next phase does not share the CPUs with them."""
    root = psutil.Process(run.children.procs[name].pid)
    procs = [root, *root.children(recursive=True)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(sum(p.cpu_times()[:2]) for p in procs)
        time.sleep(1.0)
        if sum(sum(p.cpu_times()[:2]) for p in procs) - before < 0.05:
            return
