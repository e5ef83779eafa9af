"""`make bench`: Vitrine measured against its own limits, at 100k products, in one run.

    .venv/bin/python bench/run_bench.py [--var-dir /tmp/vt-bench] [--products 100000]

Everything runs on this machine, in its own var dir (embedded PostgreSQL + Redis, started
and stopped here), with real processes: a Celery worker on the `embed` queue, two identical
gunicorn webs on 127.0.0.1 (--port and --port + 3, each with its own Redis database), a
third without search insights (+2), a Celery worker on the `query` queue with a web that
holds no model (+1), wrk for the load, and at the end the stack as `make run` starts it
(+4). It needs ../shared/data (fashion and esci) and wrk: a goal it cannot measure fails
the run, so it refuses to start without them. Every ratio is measured one way
(docs/BENCHMARKS.md, "One rule for every ratio"): both sides as a request does it, on the
same distinct queries, alternating in the same phase. Results: --results
(bench/results/latest.json), each figure with its goal or listed as informational.

1. catalog: the 6,764 ESCI products (real importer), with the embedder's own vectors of
   their documents (suite.vectors: cached on disk by model and document hash, only the
   first run encodes); relevance of hybrid search on them alone (ESCI dev NDCG@10,
   condensed lists).
2. scale + ann: the catalog grown with the fashion catalog's rows and generated variants
   of them (colour, size, pack), real texts and their own vectors, to --small and then
   --products; at each, recall@10 of the shipped ANN SQL against exact, and its speedup
   (both statements after their query's encoding, alternating); the ef_search curve.
3. relevance at scale: the same ESCI evaluation on the full catalog; the drop.
4. ingest: fashion products with photos imported and embedded by the worker into the full
   catalog's graph, against encode_documents alone on the same documents.
5. search: the API (mode=vector) against encode + ANN SQL in-process, alternating query by
   query; hybrid against vector on twin webs, alternating.
6. filtered: brand, category and price filters; fill rate with every result checked,
   filtered recall@10 against exact filtered search.
7. load: wrk, 16 connections, vector and hybrid in alternating rounds on the twin webs.
8. insights (recording on/off), suggest (against /livez), remote inference.
9. cold start: the stack as `make run` starts it; the first search after its ready banner
   against the warm p50.

Exit status: 0 when every goal is met, 2 when one is missed or could not be measured
(everything measured is still written), 1 on an error or missing requirements.
`--build-cache` only fills the vector cache for --products; `--calibrate N` runs the
real-vs-synthetic recall comparison instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

# The app's packages (catalog, search, config) by name; suite/ is found beside this script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from suite.ann import scale_and_ann  # noqa: E402
from suite.calibrate import calibrate  # noqa: E402
from suite.catalog import ESCI, catalog_makeup, grow_catalog, start_catalog  # noqa: E402
from suite.coldstart import cold_start  # noqa: E402
from suite.common import DATA, RESULTS, log, rnd  # noqa: E402
from suite.filtered import filtered  # noqa: E402
from suite.ingest import ingest  # noqa: E402
from suite.insights import insights_overhead  # noqa: E402
from suite.load import load_and_memory  # noqa: E402
from suite.overhead import search  # noqa: E402
from suite.relevance import at_scale, esci_ndcg  # noqa: E402
from suite.remote import remote  # noqa: E402
from suite.report import report  # noqa: E402
from suite.servers import port_free  # noqa: E402
from suite.state import Run  # noqa: E402
from suite.store import n_products as count_products  # noqa: E402
from suite.suggest import suggest_latency  # noqa: E402
from suite.vectors import DEFAULT_CACHE  # noqa: E402


def missing_requirements(args: argparse.Namespace) -> list[str]:
    """What a full run needs and this machine lacks: a goal it cannot measure fails it, so
    the run refuses to start without them."""
    missing = []
    if not (DATA / "products.csv").is_file() or not (DATA / "images").is_dir():
        missing.append(f"the fashion data set ({DATA}: products.csv and images/)")
    if not (ESCI / "products.jsonl").is_file() or not (ESCI / "qrels_dev.tsv").is_file():
        missing.append(
            f"the ESCI data set ({ESCI}: products.jsonl, queries_dev.tsv, qrels_dev.tsv)"
        )
    if not args.build_cache and not shutil.which("wrk"):
        missing.append("wrk, for the load goals (apt-get install -y wrk)")
    busy = [p for p in range(args.port, args.port + 5) if not port_free(p)]
    if not args.build_cache and busy:
        missing.append(f"free ports for the webs: {busy} in use (pick another --port)")
    if not args.build_cache and args.ingest <= 0:
        missing.append("--ingest > 0, for ingest.ratio")
    return missing


def run_all(run: Run) -> int:
    """Every phase in order, on one machine in one var dir; then the goals and the table."""
    a = run.args
    run.prepare()
    from search.indexing.indexes import ensure_index_for
    from search.inference.loading import get_embedder

    run.index = ensure_index_for(get_embedder())
    run.results["meta"]["model"] = run.index.embedder
    first = start_catalog(run)
    run.results["catalog"] = {"esci": first}
    alone = esci_ndcg(run)  # the ESCI products alone, same database and model
    log(f"elapsed {time.monotonic() - run.started:.0f} s")

    scale_and_ann(run)
    run.results["relevance"] = at_scale(run, alone)
    log(f"relevance: {run.results['relevance']}")
    log(f"elapsed {time.monotonic() - run.started:.0f} s")

    ingest(run)  # into the full catalog's graph
    run.results["catalog"]["makeup"] = catalog_makeup()
    run.results["catalog"]["vectors"] = vector_totals(run.results)
    log(f"elapsed {time.monotonic() - run.started:.0f} s")

    search(run, n_products=count_products(run))
    filtered(run)
    load_and_memory(run)
    run.results["insights"] = insights_overhead(run)
    log(f"insights: {run.results['insights']}")
    run.results["suggest"] = suggest_latency(run)
    log(f"suggest: {run.results['suggest']}")
    if not a.skip_remote:
        run.results["remote"] = remote(run)
        log(f"remote: {run.results['remote']}")
    run.results["meta"]["load_average_at_end"] = [rnd(x) for x in os.getloadavg()]
    run.results["cold_start"] = cold_start(run)  # last: the stack stops the servers
    run.results["meta"]["wall_s"] = rnd(time.monotonic() - run.started, 0)
    run.results["meta"]["web"] = f"gunicorn, {a.workers} sync workers, 127.0.0.1:{a.port}"
    run.results["notes"] = run.notes
    return report(run.results, Path(a.results))


def vector_totals(results: dict) -> dict:
    """How the catalog's vectors came, over every step that added products."""
    steps = [results["catalog"]["esci"].get("vectors", {})]
    steps += [v["build"].get("vectors", {}) for v in results.get("scale", {}).values()]
    steps = [s for s in steps if s]
    return {
        "from_cache": sum(s["from_cache"] for s in steps),
        "encoded_now": sum(s["encoded_now"] for s in steps),
        "encode_s": rnd(sum(s["encode_s"] for s in steps), 1),
        "cache": steps[-1]["cache"] if steps else None,
        "cache_fill_so_far": steps[-1]["cache_fill_so_far"] if steps else None,
    }


def build_cache(run: Run) -> int:
    """`--build-cache`: the catalog of --products built and embedded (vectors from the cache,
    the rest encoded and cached), nothing measured."""
    run.prepare()
    from search.indexing.indexes import ensure_index_for
    from search.inference.loading import get_embedder

    run.index = ensure_index_for(get_embedder())
    t = time.monotonic()
    first = start_catalog(run)
    log(f"ESCI products: {first}")
    grown = grow_catalog(run, run.args.products - run.ingest_total, build=False)
    log(f"catalog: {catalog_makeup()}; {grown}")
    log(f"vector cache filled for {run.args.products:,} products in {time.monotonic() - t:.0f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var-dir", default="/tmp/vt-bench", help="wiped and used (vt-bench*)")
    parser.add_argument("--products", type=int, default=100_000, help="catalog size for search")
    parser.add_argument("--small", type=int, default=10_000, help="first scale point")
    parser.add_argument("--ingest", type=int, default=1024, help="products through the worker")
    parser.add_argument("--ingest-rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=150, help="sequential requests/phase")
    parser.add_argument("--ann-queries", type=int, default=100)
    parser.add_argument("--filtered-requests", type=int, default=60)
    parser.add_argument("--load-seconds", type=int, default=60, help="wrk, per mode")
    parser.add_argument("--load-rounds", type=int, default=2, help="alternating, per mode")
    parser.add_argument(
        "--hybrid-requests", type=int, default=100, help="queries sent as hybrid and as vector"
    )
    parser.add_argument("--cold-start-requests", type=int, default=30, help="warm ones")
    parser.add_argument("--cold-start-timeout", type=int, default=600, help="for the banner")
    parser.add_argument(
        "--results", default=str(RESULTS / "latest.json"), help="where the JSON goes"
    )
    parser.add_argument("--load-queries", type=int, default=20_000)
    parser.add_argument(
        "--insights-requests", type=int, default=100, help="hybrid queries, each sent to both webs"
    )
    parser.add_argument(
        "--suggest-requests", type=int, default=300, help="distinct prefixes, each beside a /livez"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--port", type=int, default=8090,
        help="web; the remote web gets +1, insights' +2, the twin +3, the stack +4",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--torch-threads", type=int, default=1, help="per process")
    parser.add_argument("--sigma", type=float, default=0.6, help="--calibrate's vector noise")
    parser.add_argument(
        "--cache-dir", default=str(DEFAULT_CACHE),
        help="the catalog's vectors, by model and document hash (only the first run encodes)",
    )  # fmt: skip
    parser.add_argument(
        "--embed-threads", type=int, default=1,
        help="torch threads while the bench encodes the catalog for its cache (1: on a busy "
        "machine two threads ran 6x slower than one)",
    )  # fmt: skip
    parser.add_argument(
        "--build-cache", action="store_true",
        help="only fill the vector cache for a catalog of --products (resumable), then stop",
    )  # fmt: skip
    parser.add_argument("--maintenance-work-mem", default="1GB")
    parser.add_argument("--shared-buffers", default="1GB", help="PostgreSQL's, as production")
    parser.add_argument(
        "--ef-curve", type=int, nargs="+", default=[10, 20, 40, 64, 100, 200, 300, 400]
    )
    parser.add_argument("--skip-remote", action="store_true")
    parser.add_argument(
        "--no-compare-hnsw", dest="compare_hnsw", action="store_false",
        help="skip the pgvector-default HNSW graph (m 16, ef_construction 64) at full size",
    )  # fmt: skip
    parser.add_argument(
        "--calibrate", type=int, default=0, metavar="N",
        help="instead of the run: real vectors of N fashion products vs synthetic ones",
    )  # fmt: skip
    parser.add_argument("--calibrate-sigmas", type=float, nargs="+", default=[0.3, 0.6, 1.0])
    args = parser.parse_args()
    if not 8090 <= args.port <= 8094:  # the webs beside it take +1 to +4
        raise SystemExit("--port must be within 8090-8094 (this machine's bench ports: 8090-8098)")
    missing = [] if args.calibrate else missing_requirements(args)
    if missing:
        print("make bench cannot measure every goal here; missing:", file=sys.stderr)
        for what in missing:
            print(f"  - {what}", file=sys.stderr)
        return 1
    os.environ["OMP_NUM_THREADS"] = str(args.torch_threads)  # before torch is imported
    run = Run(args)
    code = 1
    try:
        if args.calibrate:
            code = calibrate(run)
        elif args.build_cache:
            code = build_cache(run)
        else:
            code = run_all(run)
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        run.stop_everything()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
