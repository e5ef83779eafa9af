"""bench/suite/suggest.py: the prefixes it sends and the figures it reports, on cases worked
by hand (the phase itself runs in `make bench` against a 100k catalog)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def phase():
    sys.path.insert(0, str(BENCH))
    try:
        from suite import suggest

        yield suggest
    finally:
        sys.path.remove(str(BENCH))


def test_prefixes_are_distinct_beginnings_of_the_queries_of_growing_length(phase):
    texts = ["Red Dress", "red shoes", "blue jeans", "linen shirt", "wool socks", "red"]
    # lengths 2, 3, 4, 5, 6, then 2 again; "re" twice is sent once; "red" ends the query
    assert phase.prefixes(texts) == ["re", "red", "blue", "linen", "wool s"]


def test_suggest_path_encodes_the_prefix(phase):
    assert phase.suggest_path("t-sh&x") == "/api/v1/suggest?q=t-sh%26x&limit=8"


def test_figures_are_the_medians_and_their_ratio(phase):
    figures = phase.suggest_figures(
        suggest_ms=[4.0, 6.0, 5.0, 30.0],
        livez_ms=[2.0, 2.0, 3.0, 2.5],
        answered=[True, True, False, True],
        errors=["suggest 500"],
    )
    assert figures["p50_ms"] == 5.5  # median of 4, 5, 6, 30
    assert figures["empty_p50_ms"] == 2.25
    assert figures["ratio_to_empty"] == round(5.5 / 2.25, 2)
    assert figures["p95_ms"] == 30.0
    assert (figures["requests"], figures["answered"], figures["errors"]) == (4, 3, 1)


def test_the_goal_is_judged_on_the_suggest_p50(phase):
    from suite.report import GOALS

    assert ("suggest.p50_ms", "<=", 10.0) in GOALS
