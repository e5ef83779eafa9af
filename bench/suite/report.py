"""The bench's verdict: goals judged on the results, latest.json, the table.

Every figure in latest.json either has a goal (`goals`: key -> goal, value, pass) or is
listed in `informational`; a goal the run could not measure fails it like a missed one."""

from __future__ import annotations

import json
from pathlib import Path

from suite.table import print_table

# (key, comparison, limit): issue 6's first goals, then 14 (insights), 15 (suggest) and 17
# (hybrid, relevance at scale, cold start, filtered recall).
GOALS = [
    ("ingest.ratio", ">=", 0.8),
    ("search.overhead_ratio", "<=", 1.5),
    ("ann.recall_at_10", ">=", 0.95),
    ("ann.speedup_vs_exact", ">=", 10.0),
    # Vector-only search reads the graph on its own, longer list (its ef_search): as good.
    ("ann.vector_mode.recall_at_10", ">=", 0.95),
    ("filtered.fill_rate", ">=", 1.0),
    ("filtered.mismatched", "<=", 0),
    ("filtered.recall_at_10", ">=", 0.9),
    ("load.errors", "<=", 0),
    ("hybrid.ratio_vs_vector", "<=", 1.5),
    ("hybrid.load_ratio_vs_vector", ">=", 0.6),
    ("hybrid.load_errors", "<=", 0),
    ("hybrid.p99_over_p50", "<=", 3.0),
    ("relevance.at_scale_drop", "<=", 0.02),
    ("cold_start.ratio", "<=", 2.0),
    # Issue 14: recording search insights costs hybrid search at most 5% (p50 on / off).
    ("insights.overhead_ratio", "<=", 1.05),
    # Issue 15: a suggestion request's p50 at 100k products, in milliseconds.
    ("suggest.p50_ms", "<=", 10.0),
]
NOT_FIGURES = {"meta", "notes", "goals", "informational", "plan", "missing"}


def judge(results: dict) -> dict[str, dict]:
    """Each goal with its value (None: not measured) and whether it is met."""
    goals = {}
    for key, op, limit in GOALS:
        value = results
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, int | float) or value != value:  # absent, or NaN
            goals[key] = {"goal": f"{op} {limit}", "value": None, "pass": False}
            continue
        ok = value >= limit if op == ">=" else value <= limit
        goals[key] = {"goal": f"{op} {limit}", "value": value, "pass": ok}
    return goals


def figures(results: dict, prefix: str = "") -> list[str]:
    """Dotted keys of every figure (numbers, and lists of them or of rows) in the results."""
    out = []
    for key, value in results.items():
        path = f"{prefix}{key}"
        if not prefix and key in NOT_FIGURES:
            continue
        if isinstance(value, dict):
            out += figures(value, path + ".")
        elif isinstance(value, bool) or isinstance(value, str) or value is None:
            continue
        elif isinstance(value, int | float | list):
            out.append(path)
    return out


def report(results: dict, out: Path, missing: list[str] | None = None) -> int:
    """Judge the goals, write `out`, print the table. Exit code: 0 when every goal is met,
    2 when one is missed or could not be measured (`missing` says why, when known)."""
    goals = judge(results)
    results["goals"] = goals
    results["informational"] = sorted(set(figures(results)) - set(goals))
    results["missing"] = list(missing or [])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_table(results)
    print(f"\nwritten: {out}")
    unmeasured = [k for k, g in goals.items() if g["value"] is None]
    failed = [k for k, g in goals.items() if g["value"] is not None and not g["pass"]]
    if unmeasured:
        print(f"goals NOT MEASURED (the run fails): {', '.join(unmeasured)}")
        for why in missing or []:
            print(f"  missing: {why}")
    if failed:
        print(f"goals missed: {', '.join(failed)}")
    if unmeasured or failed:
        return 2
    print("all goals met")
    return 0
