"""The bench's own rules, on cases worked by hand (the phases themselves run in `make bench`
against a 100k catalog): a goal it could not measure fails the run, every figure has a goal
or is listed as informational, the vector cache keeps what a stopped run encoded, and a
generated variant's text says what differs from its real product."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def suite():
    sys.path.insert(0, str(BENCH))
    try:
        from suite import catalog, relevance, report, vectors

        yield {"catalog": catalog, "relevance": relevance, "report": report, "vectors": vectors}
    finally:
        sys.path.remove(str(BENCH))


META = {
    "date": "today",
    "machine": "here",
    "postgres": 18,
    "pgvector": "0.8",
    "torch": "2",
    "torch_threads_per_process": 1,
    "load_average_at_start": [0.0],
}


def every_goal_met(report) -> dict:
    results: dict = {"meta": dict(META)}
    for key, _op, limit in report.GOALS:
        *sections, name = key.split(".")
        place = results
        for section in sections:
            place = place.setdefault(section, {})
        place[name] = limit
    return results


def test_a_run_with_every_goal_met_exits_zero(suite, tmp_path):
    report = suite["report"]
    assert report.report(every_goal_met(report), tmp_path / "latest.json") == 0


def test_a_goal_that_could_not_be_measured_fails_the_run(suite, tmp_path, capsys):
    report = suite["report"]
    results = every_goal_met(report)
    del results["ingest"]["ratio"]
    missing = ["the fashion data set"]
    assert report.report(results, tmp_path / "latest.json", missing) == 2
    out = capsys.readouterr().out
    assert "NOT MEASURED" in out and "ingest.ratio" in out and "the fashion data set" in out


def test_a_missed_goal_fails_the_run(suite, tmp_path):
    report = suite["report"]
    results = every_goal_met(report)
    results["hybrid"]["ratio_vs_vector"] = 3.9
    assert report.report(results, tmp_path / "latest.json") == 2
    assert report.judge(results)["hybrid.ratio_vs_vector"]["pass"] is False


def test_every_figure_has_a_goal_or_is_informational(suite, tmp_path):
    import json

    report = suite["report"]
    results = every_goal_met(report)
    results["search"]["n_products"] = 100_000
    results["memory"] = {"web_rss_mb": 900.0, "web_processes_rss_mb": [300.0, 300.0]}
    results["search"]["mode"] = "vector"  # words, not a figure
    report.report(results, tmp_path / "latest.json")
    written = json.loads((tmp_path / "latest.json").read_text())
    assert set(written["goals"]) == {key for key, _, _ in report.GOALS}
    assert written["informational"] == [
        "memory.web_processes_rss_mb",
        "memory.web_rss_mb",
        "search.n_products",
    ]


def test_the_cache_keeps_what_a_stopped_run_encoded(suite, tmp_path):
    vectors = suite["vectors"]
    first = vectors.VectorCache(tmp_path, "org/model", None)
    first.add(["a", "b"], np.eye(2, 3, dtype=np.float32), seconds=1.5)
    # A run that dies later keeps the chunk; the next one (same model) finds it.
    again = vectors.VectorCache(tmp_path, "org/model", None)
    assert len(again) == 2
    assert np.array_equal(again.vectors["b"], np.eye(2, 3, dtype=np.float32)[1])
    assert again.first_fill() == {"documents_encoded": 2, "encode_s": 2.0}
    # Another model (or revision) never reads them.
    assert len(vectors.VectorCache(tmp_path, "org/model", "v2")) == 0


ROWS = [
    {
        "id": "15970", "productDisplayName": "Turtle Check Men Navy Blue Shirt",
        "masterCategory": "Apparel", "subCategory": "Topwear", "articleType": "Shirts",
        "gender": "Men", "baseColour": "Navy Blue", "season": "Fall", "year": "2011",
        "usage": "Casual",
    },
]  # fmt: skip


def test_variants_of_a_real_product_say_what_differs(suite):
    catalog = suite["catalog"]
    palette = ["Black", "Navy Blue", "Red"]
    original = catalog.fashion_product(ROWS[0], "FC-15970")
    colour, size, pack = (catalog.variant(ROWS, palette, k) for k in range(3))
    assert colour["name"] != original["name"] and "Navy Blue" not in colour["name"]
    assert colour["attributes"]["baseColour"] in colour["name"]
    assert size["name"].startswith(original["name"]) and size["attributes"]["size"] in size["name"]
    assert pack["name"].startswith(f"Pack of {pack['attributes']['pack']} ")
    assert pack["price"] == pytest.approx(original["price"] * int(pack["attributes"]["pack"]))
    assert len({colour["sku"], size["sku"], pack["sku"]}) == 3
    assert catalog.variant(ROWS, palette, 1) == size  # the same variant every run


def esci_side(ndcg: dict[str, float], ranked: dict[str, int]) -> dict:
    """One side of relevance.at_scale as esci_ndcg returns it."""
    return {"ndcg_at_10": sum(ndcg.values()) / len(ndcg), "per_query": ndcg, "ranked": ranked}


def test_a_query_ranking_no_judged_product_at_scale_is_left_out_of_the_drop(suite):
    """A query whose 200 ranked products at scale are all unjudged scores 0 on a condensed
    list whatever the search did: it is named and left out, the drop over every query kept
    beside it."""
    relevance = suite["relevance"]
    qids = [f"q{i}" for i in range(40)]
    alone = esci_side(dict.fromkeys(qids, 0.8), dict.fromkeys(qids, 30))
    scaled = esci_side(
        {**dict.fromkeys(qids, 0.79), "q0": 0.0}, {**dict.fromkeys(qids, 30), "q0": 0}
    )
    figures = relevance.scale_drop(alone, scaled, {"q0": "flip flops"})
    assert figures["unmeasurable_queries"] == ["flip flops"]
    assert figures["measured_queries"] == 39
    assert figures["at_scale_drop"] == pytest.approx(0.01)
    assert figures["at_scale_drop_every_query"] == pytest.approx((0.8 + 39 * 0.01) / 40, abs=1e-4)


def test_too_many_unmeasurable_queries_fail_the_goal_as_not_measured(suite, tmp_path):
    relevance, report = suite["relevance"], suite["report"]
    qids = [f"q{i}" for i in range(20)]
    alone = esci_side(dict.fromkeys(qids, 0.8), dict.fromkeys(qids, 30))
    scaled = esci_side(dict.fromkeys(qids, 0.8), {**dict.fromkeys(qids, 30), "q0": 0, "q1": 0})
    results = every_goal_met(report)
    results["relevance"] = relevance.scale_drop(alone, scaled, {})
    assert results["relevance"]["at_scale_drop"] is None
    assert report.report(results, tmp_path / "latest.json") == 2
    assert report.judge(results)["relevance.at_scale_drop"]["value"] is None
