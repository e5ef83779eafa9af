"""`make soak SOAK_MINUTES=60`: the whole stack under mixed traffic, with faults injected on a
schedule, then one JSON line saying whether anything was lost, left indexed by the wrong
model, failed outside a fault window, grew, or was left running.

    .venv/bin/python bench/run_soak.py [--minutes 60] [--var-dir /tmp/vt-soak]

Not in CI (an hour, root for the tmpfs over media/). What it does and checks:
docs/RELIABILITY.md, "Soak"."""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ (suite, soak) and the project (config, catalog, search, tests) by name.
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from soak.main import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run())
