"""`manage.py evaluate_search` and the metric/IO functions behind it (search.evaluation).

The metric tests pin exact values on hand-made rankings, computed by hand below; the command
tests run the real service over the small catalog of conftest.py (real MiniLM, no worker)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import services as catalog
from search import evaluation
from search.evaluation import TsvFormatError, evaluate_rankings, per_query_scores


def log2(x: float) -> float:
    return math.log2(x)


# --- Metrics on hand-made rankings -----------------------------------------------------------

QRELS = {"q": {"A": 3, "B": 2, "C": 1, "D": 0}}


def test_ndcg_uses_grades_as_gains_against_the_ideal_order():
    # ranking D(0) B(2) A(3): DCG = 0/log2(2) + 2/log2(3) + 3/log2(4)
    # ideal A(3) B(2) C(1):  IDCG = 3/log2(2) + 2/log2(3) + 1/log2(4)
    scores = per_query_scores(qrels=QRELS, rankings={"q": ["D", "B", "A"]})["q"]
    dcg = 2 / log2(3) + 3 / log2(4)
    idcg = 3 + 2 / log2(3) + 1 / log2(4)
    assert scores["ndcg@10"] == pytest.approx(dcg / idcg, abs=1e-4)
    assert per_query_scores(qrels=QRELS, rankings={"q": ["A", "B", "C"]})["q"][
        "ndcg@10"
    ] == pytest.approx(1.0)


def test_ndcg_only_counts_the_top_ten():
    ranking = [f"X{i}" for i in range(10)] + ["A", "B", "C"]
    assert per_query_scores(qrels=QRELS, rankings={"q": ranking})["q"]["ndcg@10"] == 0.0


def test_mrr_and_recall_count_any_positive_grade_by_default():
    # As trec_eval and the ESCI reference points: C (complement, grade 1) is relevant.
    scores = per_query_scores(qrels=QRELS, rankings={"q": ["C", "D", "B"]})["q"]
    assert scores["mrr@10"] == 1.0
    assert scores["recall@50"] == pytest.approx(2 / 3)  # C and B of {A, B, C}


def test_a_stricter_relevant_grade_for_mrr_and_recall():
    # grade >= 2: C no longer counts; B (substitute) at rank 3 does. NDCG is unchanged.
    strict = per_query_scores(qrels=QRELS, rankings={"q": ["C", "D", "B"]}, relevant_grade=2)
    default = per_query_scores(qrels=QRELS, rankings={"q": ["C", "D", "B"]})
    assert strict["q"]["mrr@10"] == pytest.approx(1 / 3)
    assert strict["q"]["recall@50"] == pytest.approx(1 / 2)  # B of {A, B}
    assert strict["q"]["ndcg@10"] == default["q"]["ndcg@10"]
    with pytest.raises(ValueError):
        evaluation.measures(0)


def test_the_only_relevant_item_first_gives_mrr_one():
    qrels = {"q": {"A": 3, "D": 0}}
    scores = per_query_scores(qrels=qrels, rankings={"q": ["A", "D", "Z"]})["q"]
    assert scores == {"ndcg@10": pytest.approx(1.0), "recall@50": 1.0, "mrr@10": 1.0}


def test_recall_stops_at_fifty_and_mrr_at_ten():
    ranking = [f"X{i}" for i in range(10)] + ["A"] + [f"Y{i}" for i in range(39)] + ["B"]
    assert len(ranking) == 51
    scores = per_query_scores(qrels=QRELS, rankings={"q": ranking})["q"]
    assert scores["recall@50"] == pytest.approx(1 / 3)  # A at rank 11 counts, B at 51 not
    assert scores["mrr@10"] == 0.0  # A is at rank 11


def test_unjudged_products_gain_nothing_but_keep_their_place():
    # "Z" is not in the qrels for q: unknown, so it neither helps nor disappears.
    scores = per_query_scores(qrels=QRELS, rankings={"q": ["Z", "A"]})["q"]
    assert scores["mrr@10"] == pytest.approx(1 / 2)


def test_our_order_is_kept_even_where_trec_eval_would_break_ties_by_id():
    # B before A: with equal scores trec_eval would sort by id; rankings keep the given order.
    got = per_query_scores(qrels=QRELS, rankings={"q": ["B", "A"]})["q"]["ndcg@10"]
    idcg = 3 + 2 / log2(3) + 1 / log2(4)
    assert got == pytest.approx((2 + 3 / log2(3)) / idcg, abs=1e-4)


def test_a_repeated_product_keeps_its_first_position():
    run = evaluation.rankings_to_run({"q": ["B", "A", "B"]})
    assert list(run["q"]) == ["B", "A"]
    assert run["q"]["B"] > run["q"]["A"]


def test_queries_with_no_results_count_as_zero_in_the_mean():
    qrels = {"q1": {"A": 3}, "q2": {"B": 3}, "q3": {"C": 3}}
    means = evaluate_rankings(qrels=qrels, rankings={"q1": ["A"], "q2": []})  # q3 missing
    assert means["mrr@10"] == pytest.approx(1 / 3)
    assert means["ndcg@10"] == pytest.approx(1 / 3)
    assert means["recall@50"] == pytest.approx(1 / 3)


def test_trec_run_file(tmp_path):
    path = tmp_path / "vector.run"
    evaluation.write_trec_run(path, {"q1": ["A", "B"]}, tag="vector")
    assert path.read_text().splitlines() == ["q1 Q0 A 1 2 vector", "q1 Q0 B 2 1 vector"]


# --- Reading TSV -----------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_files_with_and_without_headers(tmp_path):
    with_header = evaluation.read_queries(write(tmp_path / "a.tsv", "qid\tquery\nq1\tbath towel\n"))
    without = evaluation.read_queries(write(tmp_path / "b.tsv", "q1\tbath towel\n\n"))
    assert with_header == without == [evaluation.JudgedQuery(qid="q1", text="bath towel")]
    qrels_header = evaluation.read_qrels(
        write(tmp_path / "c.tsv", "qid\tsku\tgrade\nq1\tTWL-1\t3\nq1\tMUG-1\t0\n")
    )
    qrels_plain = evaluation.read_qrels(write(tmp_path / "d.tsv", "q1\tTWL-1\t3\r\nq1\tMUG-1\t0"))
    assert qrels_header == qrels_plain == {"q1": {"TWL-1": 3, "MUG-1": 0}}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("qid\tsku\tgrade\nq1\tTWL-1\t3\nq1\tTWL-2\n", 3, "expected 3 tab-separated fields"),
        ("q1\tTWL-1\t3\nq1\tTWL-2\tgood\n", 2, "grade must be an integer"),
        ("q1\tTWL-1\t-1\n", 1, "grade must be >= 0"),
        ("q1 TWL-1 3\n", 1, "expected 3 tab-separated fields"),
        ("q1\tTWL-1\t3\nq1\tTWL-1\t2\n", 2, "judged twice"),
    ],
)
def test_malformed_qrels_name_the_line(tmp_path, text, line, reason):
    with pytest.raises(TsvFormatError) as caught:
        evaluation.read_qrels(write(tmp_path / "qrels.tsv", text))
    assert caught.value.line == line
    assert reason in str(caught.value)
    assert f"line {line}" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("qid\tquery\nq1\tbath towel\nq2\n", 3, "expected 2 tab-separated fields"),
        ("q1\tbath towel\nq1\tmug\n", 2, "appears twice"),
        ("q1\t   \n", 1, "empty query text"),
    ],
)
def test_malformed_queries_name_the_line(tmp_path, text, line, reason):
    with pytest.raises(TsvFormatError) as caught:
        evaluation.read_queries(write(tmp_path / "queries.tsv", text))
    assert caught.value.line == line
    assert reason in str(caught.value)


# --- The command over a real index -----------------------------------------------------------

QUERIES = "qid\tquery\nq1\tbath towel\nq2\tband saw for wood\nq3\tLED desk lamp\n"
QRELS_TSV = (
    "qid\tsku\tgrade\n"
    "q1\tTWL-1\t3\nq1\tTWL-2\t2\nq1\tMUG-1\t0\n"
    "q2\tSAW-1\t3\nq2\tSAW-2\t2\nq2\tLMP-1\t0\n"
    "q3\tLMP-1\t3\nq3\tMUG-2\t0\n"
)


@pytest.fixture
def eval_files(tmp_path) -> tuple[Path, Path]:
    return write(tmp_path / "queries.tsv", QUERIES), write(tmp_path / "qrels.tsv", QRELS_TSV)


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate_search", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_last_line_has_every_mode_and_metric(indexed_catalog, eval_files):
    queries, qrels = eval_files
    out, _ = run_command("--queries", str(queries), "--qrels", str(qrels), "--json")
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result) == {"lexical", "vector", "hybrid"}
    for mode, scores in result.items():
        assert set(scores) == {"ndcg@10", "recall@50", "mrr@10"}, mode
        assert all(0.0 <= value <= 1.0 for value in scores.values()), (mode, scores)


def test_an_exact_name_query_finds_its_only_relevant_product_first(indexed_catalog, tmp_path):
    queries = write(tmp_path / "q.tsv", "q3\tLED desk lamp\n")
    qrels = write(tmp_path / "r.tsv", "q3\tLMP-1\t3\nq3\tMUG-2\t0\n")
    out, _ = run_command(
        "--queries", str(queries), "--qrels", str(qrels), "--mode", "vector", "--json"
    )
    assert json.loads(out.strip().splitlines()[-1]) == {
        "vector": {"ndcg@10": 1.0, "recall@50": 1.0, "mrr@10": 1.0}
    }


def test_table_output_runs_and_saves_trec_runs(indexed_catalog, eval_files, tmp_path):
    queries, qrels = eval_files
    out, _ = run_command(
        "--queries", str(queries), "--qrels", str(qrels), "--mode", "vector", "--no-rerank",
        "--save-runs", str(tmp_path / "runs"),
    )  # fmt: skip
    assert "3 judged queries" in out
    assert "NDCG@10" in out and "vector" in out
    lines = (tmp_path / "runs" / "vector.run").read_text().splitlines()
    assert {line.split()[0] for line in lines} == {"q1", "q2", "q3"}
    assert lines[0].split()[1:4:2] == ["Q0", "1"]


def test_queries_without_judgments_are_skipped_with_a_warning(indexed_catalog, tmp_path):
    queries = write(tmp_path / "q.tsv", "q3\tLED desk lamp\nq9\tunjudged query\n")
    qrels = write(tmp_path / "r.tsv", "q3\tLMP-1\t3\n")
    out, err = run_command(
        "--queries", str(queries), "--qrels", str(qrels), "--mode", "vector", "--json"
    )
    assert "1 queries have no judgments" in err
    assert json.loads(out.strip().splitlines()[-1])["vector"]["mrr@10"] == 1.0


def test_relevant_grade_option_and_no_stale_rankings_from_the_shared_cache(
    indexed_catalog, tmp_path
):
    from django.core.cache import cache

    # Only a complement (grade 1) is judged: relevant by default, not with --relevant-grade 2.
    queries = write(tmp_path / "q.tsv", "q3\tLED desk lamp\n")
    qrels = write(tmp_path / "r.tsv", "q3\tLMP-1\t1\n")
    args = ["--queries", str(queries), "--qrels", str(qrels), "--mode", "vector", "--json"]
    cache.clear()
    out, _ = run_command(*args)
    assert json.loads(out.strip().splitlines()[-1])["vector"]["mrr@10"] == 1.0
    out, err = run_command(*args, "--relevant-grade", "2")
    assert json.loads(out.strip().splitlines()[-1])["vector"]["mrr@10"] == 0.0
    assert "no product graded >= 2" in err
    # Rankings come from this run's code and settings, never from the storefront's cache.
    assert not [k for k in _cache_keys() if "search:ranking:" in k]


def test_condensed_lists_score_only_the_judged_products(indexed_catalog, tmp_path):
    # Nobody judged the lamp for this query; the only judged product, a mug, ranks below it.
    queries = write(tmp_path / "q.tsv", "q3\tLED desk lamp\n")
    qrels = write(tmp_path / "r.tsv", "q3\tMUG-1\t3\n")
    args = ["--queries", str(queries), "--qrels", str(qrels), "--mode", "vector", "--json"]
    out, _ = run_command(*args)
    whole = json.loads(out.strip().splitlines()[-1])["vector"]
    out, _ = run_command(*args, "--condensed")
    condensed = json.loads(out.strip().splitlines()[-1])["vector"]
    assert whole["mrr@10"] < 1.0
    assert condensed == {"ndcg@10": 1.0, "recall@50": 1.0, "mrr@10": 1.0}


def test_a_second_evaluation_in_one_process_ranks_the_catalog_as_it_is_now(
    indexed_catalog, tmp_path
):
    from catalog.models import Product

    queries = write(tmp_path / "q.tsv", "q3\tLED desk lamp\n")
    qrels = write(tmp_path / "r.tsv", "q3\tLMP-1\t3\n")
    args = ["--queries", str(queries), "--qrels", str(qrels), "--mode", "vector", "--json"]
    out, _ = run_command(*args)
    assert json.loads(out.strip().splitlines()[-1])["vector"]["mrr@10"] == 1.0
    Product.objects.filter(sku="LMP-1").update(active=False)  # off sale before the second
    out, _ = run_command(*args)
    assert json.loads(out.strip().splitlines()[-1])["vector"]["mrr@10"] == 0.0


def _cache_keys() -> list[str]:
    from django.core.cache import cache

    client = cache._cache.get_client(write=False)
    return [k.decode() for k in client.scan_iter("*")]


def test_malformed_tsv_is_a_command_error_with_the_line(db, tmp_path):
    queries = write(tmp_path / "q.tsv", QUERIES)
    qrels = write(tmp_path / "r.tsv", "qid\tsku\tgrade\nq1\tTWL-1\t3\nq1\tTWL-2\t2 extra\tx\n")
    with pytest.raises(CommandError, match=r"r\.tsv, line 3: expected 3 tab-separated fields"):
        run_command("--queries", str(queries), "--qrels", str(qrels))
    bad_queries = write(tmp_path / "bad.tsv", "q1\tbath towel\nq2 band saw\n")
    with pytest.raises(CommandError, match=r"bad\.tsv, line 2"):
        run_command("--queries", str(bad_queries), "--qrels", str(tmp_path / "r.tsv"))


def test_missing_file_and_empty_index_are_command_errors(db, eval_files, tmp_path):
    queries, qrels = eval_files
    with pytest.raises(CommandError, match="cannot read"):
        run_command("--queries", str(tmp_path / "nope.tsv"), "--qrels", str(qrels))
    with pytest.raises(CommandError, match="no products yet"):
        run_command("--queries", str(queries), "--qrels", str(qrels))
    catalog.upsert_product(sku="TWL-1", name="Plush cotton bath towel")  # not embedded yet
    with pytest.raises(CommandError, match="being indexed"):
        run_command("--queries", str(queries), "--qrels", str(qrels), "--mode", "vector")


# --- The ESCI converter of the benchmark -----------------------------------------------------


def load_converter():
    import importlib.util

    path = Path(__file__).resolve().parents[3] / "bench" / "esci_to_jsonl.py"
    spec = importlib.util.spec_from_file_location("esci_to_jsonl", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_esci_products_map_to_import_rows():
    converter = load_converter()
    raw = {
        "asin": "B000TEST01",
        "title": "Stoneware mug",
        "description": "Dishwasher safe.",
        "bullet_points": "Holds 350 ml\nMade in Portugal",
        "brand": "Acme",
        "color": "Blue",
        "image": "https://example.com/x.jpg",
        "price": 12.5,
        "category": ["Home & Kitchen", "Kitchen & Dining", "Mugs"],
        "rating": 4.5,
        "rating_count": 10,
        "is_book": False,
    }
    assert converter.product_row(raw) == {
        "sku": "B000TEST01",
        "name": "Stoneware mug",
        "description": "Holds 350 ml\nMade in Portugal\n\nDishwasher safe.",
        "brand": "Acme",
        "category": "Home & Kitchen/Kitchen & Dining/Mugs",
        "price": 12.5,
        "currency": "USD",
        "attributes": {"color": "Blue"},
        "images": [],
    }
    bare = converter.product_row({"asin": "B1", "title": "X", "category": [], "color": None})
    assert bare["category"] is None and bare["attributes"] == {} and bare["description"] == ""
    line = converter.jsonl_line({"description": "a\u2028b"})
    assert len(line.splitlines()) == 1 and json.loads(line) == {"description": "a\u2028b"}


def test_esci_dev_set_converts_when_present(tmp_path):
    converter = load_converter()
    if not (converter.DEFAULT_DATA / "products.jsonl").exists():
        pytest.skip("no ../shared/data/esci in this checkout")
    paths = converter.convert(converter.DEFAULT_DATA, tmp_path / "esci")
    queries = evaluation.read_queries(paths["queries"])
    qrels = evaluation.read_qrels(paths["qrels"])
    with open(paths["products"], encoding="utf-8") as handle:
        skus = {json.loads(line)["sku"] for line in handle}
    assert len(skus) == 6764
    assert {q.qid for q in queries} == set(qrels)
    assert all(sku in skus for judged in qrels.values() for sku in judged)


def test_an_unknown_index_is_refused_with_where_to_look(db, tmp_path):
    catalog.upsert_product(sku="TWL-1", name="Bath towel", price="5.00")
    queries = write(tmp_path / "q.tsv", "q1\tbath towel\n")
    qrels = write(tmp_path / "r.tsv", "q1\tTWL-1\t3\n")
    with pytest.raises(CommandError, match="no search index 999; see reindex --list"):
        call_command("evaluate_search", queries=queries, qrels=qrels, index=999)
