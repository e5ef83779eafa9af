"""The soak's judgements (bench/soak/checks.py, faults.py) on cases worked out by hand: which
requests fall in a fault window, what counts as flat, which windows are compared, and that
every fault is scheduled inside the run. The soak itself runs only with -m soak."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def soak():
    sys.path.insert(0, str(BENCH))
    try:
        from soak import checks, faults

        yield checks, faults
    finally:
        sys.path.remove(str(BENCH))


class Req:
    def __init__(self, kind, start, end, status, error=""):
        self.kind, self.start, self.end, self.status, self.error = kind, start, end, status, error


def test_a_5xx_overlapping_a_fault_window_counts_inside_and_one_after_it_outside(soak):
    checks, _ = soak
    windows = [(100.0, 130.0)]
    samples = [
        Req("api", 95.0, 101.0, 503),  # began before the fault, answered during it
        Req("api", 129.0, 131.0, 500),
        Req("api", 131.0, 131.2, 502),  # after the window: the shop should be whole again
        Req("api", 140.0, 140.1, 0, "ConnectionError"),
        Req("api", 10.0, 10.1, 200),
        Req("page", 11.0, 11.3, 200),
    ]
    verdict = checks.request_verdict(samples, windows)
    assert verdict["5xx_inside_windows"] == 2
    assert verdict["5xx_outside_windows"] == 1
    assert verdict["unanswered_outside_windows"] == 1
    # Latency only from answered requests outside the windows: 100 ms for api (one 502 and
    # one 200 answered outside), 300 ms for the page.
    assert verdict["latency_by_kind"]["page"]["p50_ms"] == pytest.approx(300, abs=1)
    assert verdict["latency_by_kind"]["api"]["n"] == 2


def test_growth_beyond_ten_percent_is_not_flat_a_drop_is(soak):
    checks, _ = soak
    assert checks.flat([100, 100, 101], [109, 110, 110])["ok"]
    assert not checks.flat([100, 100, 101], [112, 113, 112])["ok"]
    assert checks.flat([100, 100], [60, 61])["ok"]  # a restart's fresh process is smaller
    assert checks.flat([5, 5], [6, 6])["ok"]  # one more connection of five is noise
    assert not checks.flat([5, 5], [7, 7])["ok"]
    assert not checks.flat([], [1])["judged"]


def test_the_compared_windows_are_minutes_5_15_and_the_last_ten_or_thirds(soak):
    checks, _ = soak
    assert checks.windows_for(3600) == ((300, 900), (3000, 3600))
    assert checks.windows_for(600) == ((200, 400), (400, 600))


def test_every_fault_is_scheduled_in_order_inside_the_run_and_more_often_in_longer_runs(soak):
    _, faults = soak
    short, hour = faults.schedule(600), faults.schedule(3600)
    assert sorted(kind for _, kind in short) == sorted(faults.KINDS)
    assert len(hour) == 3 * len(faults.KINDS)
    for plan, run_s in ((short, 600), (hour, 3600)):
        times = [at for at, _ in plan]
        assert times == sorted(times) and 0.15 * run_s <= times[0] and times[-1] <= 0.85 * run_s
