"""Capacity plan: turn a shop's numbers into a topology (docs/SCALING.md explains every
formula, its source and which inputs are measured and which are estimates).

    .venv/bin/python bench/capacity.py --products 10000000 --dims 2048 \\
        [--qps 200] [--ingest-per-hour 100000] [--gpu-docs-per-s 85] [--mode hybrid] [--json]

It answers: how much RAM the HNSW graph needs (it must stay in shared_buffers and the page
cache, on the primary and on every replica), how long a bulk build takes, how many replica
cores and replicas a query rate needs, and how many GPU embed workers an ingest rate needs.
No Django, no database: plain arithmetic, so it runs anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass

# --- pgvector's on-disk HNSW layout (src/hnsw.h, pgvector 0.8) ------------------------------
PAGE_BYTES = 8192
# Room for tuples on a page: 8192 - page header (24) - HNSW special space (MAXALIGN(8)).
PAGE_ROOM = PAGE_BYTES - 24 - 8
LINE_POINTER = 4  # ItemIdData, one per tuple
ITEM_POINTER = 6  # ItemPointerData: one neighbour
# HnswElementTupleData before the vector: type, level, deleted, unused (4) + 10 heap TIDs (60)
# + neighbour TID (6) + unused2 (2).
ELEMENT_HEADER = 72
HALFVEC_HEADER = 8  # varlena length (4) + dim (2) + unused (2); then 2 bytes per dimension
NEIGHBOR_HEADER = 4  # type, unused, count


def maxalign(n: int) -> int:
    return (n + 7) // 8 * 8


def element_tuple_bytes(dims: int) -> int:
    """One graph element: its header and the halfvec itself."""
    return maxalign(ELEMENT_HEADER + HALFVEC_HEADER + 2 * dims)


def neighbor_tuple_bytes(level: int, m: int) -> int:
    """The element's neighbour lists: 2m at layer 0, m on each layer above."""
    return maxalign(NEIGHBOR_HEADER + (level + 2) * m * ITEM_POINTER)


def elements_per_page(dims: int, m: int) -> float:
    """Expected elements per 8 KiB page. An element and its layer-0 neighbour tuple share a
    page; a page takes k of them. An element that also lives on layer 1 (probability 1/m,
    HNSW's level distribution with mL = 1/ln m) has m more neighbours: if the k-th element's
    slack cannot hold them, a page holding one such element holds k - 1."""
    base = element_tuple_bytes(dims) + neighbor_tuple_bytes(0, m) + 2 * LINE_POINTER
    if base > PAGE_ROOM:
        raise ValueError(f"{dims} dims: an element and its neighbours no longer share a page")
    k = PAGE_ROOM // base
    extra = neighbor_tuple_bytes(1, m) - neighbor_tuple_bytes(0, m)
    if PAGE_ROOM - k * base >= extra:
        return float(k)
    p_upper = 1 - (1 - 1 / m) ** k
    return k - p_upper


def hnsw_index_bytes(products: int, dims: int, m: int) -> int:
    """The graph on disk and in RAM: element pages plus the metapage."""
    pages = math.ceil(products / elements_per_page(dims, m)) + 1
    return pages * PAGE_BYTES


def build_memory_bytes(products: int, dims: int, m: int) -> int:
    """maintenance_work_mem for a build that stays in memory (estimate from pgvector's
    in-memory structs: HnswElementData ~128 bytes, a layer-0 neighbour array of 2m
    candidates of 16 bytes, the value)."""
    return products * (128 + 8 + 16 * 2 * m + HALFVEC_HEADER + 2 * dims)


# --- Vitrine's own measurements (docs/BENCHMARKS.md, make bench of 2026-12-06, 2 vCPU Xeon) --
MEASURED_N = 100_000
MEASURED_DIMS = 384
MEASURED_M, MEASURED_EF_CONSTRUCTION = 24, 128
MEASURED_BUILD_CORE_S = 51.6 * 2  # hnsw_build_s on 2 vCPUs (a leader and a worker)
MEASURED_ANN_MS = 9.1  # vector leg SQL p50 at ef_search 300, with its product join
MEASURED_JOIN_MS = 2.0  # the ~200 product lookups of that statement (BENCHMARKS, Performance)
MEASURED_LEXICAL_MS = 144.6  # keyword leg SQL p50 (hybrid searches)
MEASURED_UPSERT_MS_PER_VECTOR = 271.6 / 64  # upsert of 64 vectors into the 100k graph
# The embedding table without its HNSW index, per row, at 384 dims (213.0 - 116.3 MiB):
# tuple header, ids, document hash, time, the B-tree indexes; the vector's 776 bytes aside.
ROW_OVERHEAD_BYTES = 238
TOAST_THRESHOLD, TOAST_CHUNK, TOAST_CHUNK_OVERHEAD = 2032, 1996, 60
# Public: 1M x 1536 dims built in 87 min on one core, 9.5 min with 16 (Supabase, pgvector
# 0.6.0): 9.2x on 16 cores.
PARALLEL_BUILD_EFFICIENCY = 87 / 9.5 / 16


def table_bytes(products: int, dims: int) -> int:
    """The embedding table's heap, TOAST and B-tree indexes (estimate: the measured row
    overhead; halfvecs above ~2 KB are stored out of line, chunk by chunk)."""
    value = HALFVEC_HEADER + 2 * dims
    chunks = math.ceil(value / TOAST_CHUNK) if value + ROW_OVERHEAD_BYTES > TOAST_THRESHOLD else 0
    return products * (value + ROW_OVERHEAD_BYTES + chunks * TOAST_CHUNK_OVERHEAD)


def _graph_work(products: int, dims: int, m: int, ef_construction: int) -> float:
    """Relative cost of placing one element: distance computations (ef_construction
    candidates of m neighbours each, log n layers deep), each proportional to dims."""
    return dims * ef_construction * m * math.log(max(products, 2))


def build_core_seconds(products: int, dims: int, m: int, ef_construction: int) -> float:
    per_element = MEASURED_BUILD_CORE_S / MEASURED_N
    ratio = _graph_work(products, dims, m, ef_construction) / _graph_work(
        MEASURED_N, MEASURED_DIMS, MEASURED_M, MEASURED_EF_CONSTRUCTION
    )
    return products * per_element * ratio


def ann_query_ms(products: int, dims: int) -> float:
    """One vector-leg statement on one core: the graph walk grows with dims and log n, the
    product join does not."""
    walk = MEASURED_ANN_MS - MEASURED_JOIN_MS
    scale = (dims / MEASURED_DIMS) * math.log(products) / math.log(MEASURED_N)
    return MEASURED_JOIN_MS + walk * scale


def lexical_query_ms(products: int) -> float:
    """One keyword-leg statement on one core: it grew about linearly with the catalog."""
    return MEASURED_LEXICAL_MS * products / MEASURED_N


def insert_ms(products: int, dims: int) -> float:
    """One vector written into a live graph (the embed task's upsert), primary CPU."""
    scale = (dims / MEASURED_DIMS) * math.log(products) / math.log(MEASURED_N)
    return MEASURED_UPSERT_MS_PER_VECTOR * scale


@dataclass
class Plan:
    products: int
    dims: int
    m: int
    hnsw_index_gib: float
    hnsw_bytes_per_product: float
    ram_for_index_gib: float  # shared_buffers on the primary and every replica (2 indexes)
    table_gib: float
    build_memory_gib: float
    build_hours: float
    vector_query_core_ms: float
    hybrid_query_core_ms: float
    query_core_ms: float  # of the planned mode
    replica_cores: float
    replicas: int
    gpu_workers: int
    ingest_docs_per_s: float
    primary_cores_for_inserts: float


def plan(
    *,
    products: int,
    dims: int,
    qps: float = 0.0,
    ingest_per_hour: float = 0.0,
    gpu_docs_per_s: float = 85.0,
    mode: str = "hybrid",
    m: int = MEASURED_M,
    ef_construction: int = MEASURED_EF_CONSTRUCTION,
    cores_per_replica: int = 16,
    db_cores: int = 16,
    utilisation: float = 0.6,
) -> Plan:
    if products < 1 or dims < 1 or gpu_docs_per_s <= 0 or not 0 < utilisation <= 1:
        raise ValueError("products, dims and gpu-docs-per-s must be positive; 0 < utilisation <= 1")
    if mode not in ("vector", "hybrid"):
        raise ValueError("mode is vector or hybrid")
    index = hnsw_index_bytes(products, dims, m)
    vector_ms = ann_query_ms(products, dims)
    hybrid_ms = vector_ms + lexical_query_ms(products)
    query_ms = hybrid_ms if mode == "hybrid" else vector_ms
    cores = qps * query_ms / 1000 / utilisation
    ingest_s = ingest_per_hour / 3600
    # One embed worker encodes a batch, then writes it: its per-document time is both.
    per_doc_s = 1 / gpu_docs_per_s + insert_ms(products, dims) / 1000
    build_s = build_core_seconds(products, dims, m, ef_construction) / (
        db_cores * PARALLEL_BUILD_EFFICIENCY
    )
    return Plan(
        products=products,
        dims=dims,
        m=m,
        hnsw_index_gib=round(index / 2**30, 2),
        hnsw_bytes_per_product=round(index / products, 1),
        # During a model switch the new index is built beside the active one.
        ram_for_index_gib=round(2 * index / 2**30, 2),
        table_gib=round(table_bytes(products, dims) / 2**30, 2),
        build_memory_gib=round(build_memory_bytes(products, dims, m) / 2**30, 2),
        build_hours=round(build_s / 3600, 2),
        vector_query_core_ms=round(vector_ms, 1),
        hybrid_query_core_ms=round(hybrid_ms, 1),
        query_core_ms=round(query_ms, 1),
        replica_cores=round(cores, 1),
        replicas=max(1, math.ceil(cores / cores_per_replica)) if qps else 0,
        gpu_workers=math.ceil(ingest_s * per_doc_s) if ingest_per_hour else 0,
        ingest_docs_per_s=round(ingest_s, 1),
        primary_cores_for_inserts=round(ingest_s * insert_ms(products, dims) / 1000, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--dims", type=int, required=True, help="halfvec dimensions")
    parser.add_argument("--qps", type=float, default=0.0, help="searches per second at peak")
    parser.add_argument("--ingest-per-hour", type=float, default=0.0, help="products embedded")
    parser.add_argument(
        "--gpu-docs-per-s",
        type=float,
        default=85.0,
        help="documents one GPU embeds per second (default: the estimate for "
        "Qwen3-VL-Embedding-2B on an H100 in docs/SCALING.md; measure yours with "
        "bench/embed_cost.py --device cuda)",
    )
    parser.add_argument(
        "--mode", choices=["vector", "hybrid"], default="hybrid", help="searches to plan for"
    )
    parser.add_argument("--m", type=int, default=MEASURED_M, help="HNSW m (Vitrine: 24)")
    parser.add_argument("--ef-construction", type=int, default=MEASURED_EF_CONSTRUCTION)
    parser.add_argument("--cores-per-replica", type=int, default=16)
    parser.add_argument("--db-cores", type=int, default=16, help="cores for an index build")
    parser.add_argument("--utilisation", type=float, default=0.6, help="target CPU share")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = plan(
            products=args.products,
            dims=args.dims,
            qps=args.qps,
            ingest_per_hour=args.ingest_per_hour,
            gpu_docs_per_s=args.gpu_docs_per_s,
            mode=args.mode,
            m=args.m,
            ef_construction=args.ef_construction,
            cores_per_replica=args.cores_per_replica,
            db_cores=args.db_cores,
            utilisation=args.utilisation,
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.json:
        print(json.dumps(asdict(result), indent=2))
        return 0
    rows = [
        ("HNSW index", f"{result.hnsw_index_gib} GiB ({result.hnsw_bytes_per_product} B/product)"),
        ("RAM for the graph", f"{result.ram_for_index_gib} GiB per database server"),
        ("embedding table", f"{result.table_gib} GiB (heap, TOAST, B-trees)"),
        ("build memory", f"{result.build_memory_gib} GiB maintenance_work_mem"),
        ("bulk build", f"{result.build_hours} h on {args.db_cores} cores"),
        (
            "one search",
            f"vector {result.vector_query_core_ms} core-ms, "
            f"hybrid {result.hybrid_query_core_ms} core-ms",
        ),
    ]
    if args.qps:
        rows.append(
            (
                "replicas",
                f"{result.replicas} x {args.cores_per_replica} cores "
                f"({result.replica_cores} cores at {args.utilisation:.0%} for {args.qps:g}/s)",
            )
        )
    if args.ingest_per_hour:
        rows.append(
            (
                "GPU embed workers",
                f"{result.gpu_workers} ({result.ingest_docs_per_s} docs/s; "
                f"{result.primary_cores_for_inserts} primary cores for graph inserts)",
            )
        )
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
