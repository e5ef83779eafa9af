"""bench/capacity.py's arithmetic on cases computed by hand (docs/SCALING.md shows the same
sums), and its page model against the index sizes `make bench` measured."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "bench" / "capacity.py"


@pytest.fixture(scope="module")
def capacity():
    spec = importlib.util.spec_from_file_location("capacity", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["capacity"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("capacity", None)


def test_a_million_1024_dim_products_take_three_elements_per_page(capacity):
    # Element tuple: 72 header + 8 halfvec header + 2 x 1024 = 2128 bytes (already 8-aligned).
    # Layer-0 neighbours: 4 + 2 x 24 x 6 = 292 -> 296. With two line pointers: 2432 bytes;
    # 8160 // 2432 = 3, leaving 864 bytes, room for a layer-1 element's 144 more: 3 a page.
    assert capacity.element_tuple_bytes(1024) == 2128
    assert capacity.neighbor_tuple_bytes(0, 24) == 296
    assert capacity.elements_per_page(1024, 24) == 3
    # ceil(1,000,000 / 3) element pages + the metapage.
    assert capacity.hnsw_index_bytes(1_000_000, 1024, 24) == 333_335 * 8192


def test_2048_dims_fill_a_page_each(capacity):
    # 72 + 8 + 4096 = 4176; + 296 + 8 = 4480 bytes: a second element never fits beside it.
    assert capacity.elements_per_page(2048, 24) == 1
    assert capacity.hnsw_index_bytes(1_000_000, 2048, 24) == 1_000_001 * 8192


def test_the_page_model_matches_the_index_sizes_make_bench_measured(capacity):
    # docs/BENCHMARKS.md at 100,000 x 384 dims: m 16 -> 111.6 MiB, m 24 -> 116.3 MiB.
    # m 24: 848 + 296 + 8 = 1152 bytes, 7 a page with 96 bytes left, less than a layer-1
    # element's 144 more: a page holding one of them (1 - (23/24)^7) holds 6.
    expected = 7 - (1 - (23 / 24) ** 7)
    assert capacity.elements_per_page(384, 24) == pytest.approx(expected)
    assert capacity.hnsw_index_bytes(100_000, 384, 16) / 2**20 == pytest.approx(111.6, rel=0.01)
    assert capacity.hnsw_index_bytes(100_000, 384, 24) / 2**20 == pytest.approx(116.3, rel=0.01)


def test_replicas_for_a_query_rate(capacity):
    # At the measured point a vector search costs 2.0 + 7.1 = 9.1 core-ms: 1,000 searches a
    # second are 9.1 cores, 15.2 at 60% utilisation: two replicas of 8 cores.
    plan = capacity.plan(products=100_000, dims=384, qps=1000, mode="vector", cores_per_replica=8)
    assert plan.vector_query_core_ms == pytest.approx(9.1)
    assert plan.replica_cores == pytest.approx(15.2, abs=0.05)
    assert plan.replicas == 2
    # Twice the dims, twice the graph walk; a tenfold catalog, log(1M)/log(100k) = 1.2 times.
    assert capacity.ann_query_ms(100_000, 768) == pytest.approx(2.0 + 2 * 7.1)
    assert capacity.ann_query_ms(1_000_000, 384) == pytest.approx(2.0 + 7.1 * 1.2)


def test_gpu_workers_for_an_ingest_rate(capacity):
    # 360,000 products an hour = 100 a second. Per document a worker spends 1/50 s encoding
    # and 271.6 / 64 = 4.24 ms writing into the graph: 24.2 ms, so 2.42 workers -> 3.
    plan = capacity.plan(products=100_000, dims=384, ingest_per_hour=360_000, gpu_docs_per_s=50)
    assert plan.ingest_docs_per_s == 100
    assert plan.gpu_workers == 3
    assert plan.primary_cores_for_inserts == pytest.approx(0.4, abs=0.05)


def test_build_time_scales_from_the_measured_build(capacity):
    assert capacity.build_core_seconds(100_000, 384, 24, 128) == pytest.approx(103.2)
    twice = capacity.build_core_seconds(100_000, 768, 24, 128)
    assert twice == pytest.approx(2 * 103.2)
    bigger = capacity.build_core_seconds(1_000_000, 384, 24, 128)
    assert bigger == pytest.approx(10 * 103.2 * math.log(1e6) / math.log(1e5))


def test_the_command_prints_a_plan_as_json(capacity, capsys):
    assert capacity.main(["--products", "1000000", "--dims", "1024", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["hnsw_bytes_per_product"] == pytest.approx(333_335 * 8192 / 1_000_000, abs=0.1)
    assert plan["replicas"] == 0 and plan["gpu_workers"] == 0  # no rates given


def test_bad_numbers_are_refused(capacity):
    with pytest.raises(SystemExit):
        capacity.main(["--products", "0", "--dims", "1024"])
