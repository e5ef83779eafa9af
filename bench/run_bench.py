"""`make bench`: Vitrine measured against its own limits, at 100k+ products, in one run.

    .venv/bin/python bench/run_bench.py [--var-dir /tmp/vt-bench] [--products 100000]

Everything runs on this machine, in its own var dir (embedded PostgreSQL + Redis, started
and stopped here), with real processes: a Celery worker on the `embed` queue, gunicorn
serving the app on 127.0.0.1 (port 8090), a Celery worker on the `query` queue and a second
gunicorn (8091) with VITRINE_REMOTE_INFERENCE=1, and wrk for the load. Each figure is taken
next to the limit it could reach on the same machine in the same run (these machines are
shared and noisy), and written to bench/results/latest.json:

1. ingest: >= 1,000 fashion products with real photos (../shared/data/fashion; skipped with a
   message when absent) imported with the real importer, then announced the way the catalog
   announces changes; the clock runs from the announcement's commit to the last vector
   stored by the worker (`pipeline`). `raw`: search.inference.encoding.encode_documents alone on the
   same ProductDocuments, same chunks, same torch threads, in this process. Rounds
   alternate so a change of machine load hits both.
2. scale: a synthetic catalog (fashion rows cycled, 100 synthetic brands) and synthetic
   vectors written with COPY straight into the active index, at 10k and then at
   --products; the HNSW index is rebuilt after each load (as pgvector recommends for bulk
   loads). The vectors are mixtures of two real MiniLM product vectors of the same article
   type plus Gaussian noise (see `synthetic_vectors`), so real MiniLM queries land in a
   realistic neighbourhood.
3. ann: recall@10 of the shipped ANN SQL (search.retrieval.vector.vector_candidates) against the
   same SQL with index scans off (exact), and the curve over ef_search.
4. search: query encoding, the ANN SQL and the HTTP API (mode=vector, then hybrid), one
   distinct query per request so the ranking and query-vector caches never answer.
5. filtered: a brand filter that keeps 1% of the catalog; page fill rate and latency.
6. load: wrk, 16 connections for 60 s on loopback, distinct hybrid queries; then RSS.
6b. insights: hybrid search with search insights recording (the `web`) against a third
   gunicorn (port +2) with VITRINE_ANALYTICS=0, the same queries alternated request by
   request: `insights.overhead_ratio` = p50 on / off.
7. remote: the same query encoded by the `query` worker (VITRINE_REMOTE_INFERENCE) against
   in-process encoding, and the API served by a web process that holds no model.

Exit status: 0 when every goal is met, 2 when one is missed (everything is still written),
1 on an error. `--calibrate N` runs the real-vs-synthetic recall comparison instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The app's packages (catalog, search, config) by name; suite/ is found beside this script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from suite.ann import scale_and_ann  # noqa: E402
from suite.calibrate import calibrate  # noqa: E402
from suite.common import DATA, log, rnd  # noqa: E402
from suite.filtered import filtered  # noqa: E402
from suite.ingest import ingest, no_ingest_index  # noqa: E402
from suite.insights import insights_overhead  # noqa: E402
from suite.load import load_and_memory  # noqa: E402
from suite.overhead import search  # noqa: E402
from suite.remote import remote  # noqa: E402
from suite.report import report  # noqa: E402
from suite.state import Run  # noqa: E402


def run_all(run: Run) -> int:
    """Every phase in order, on one machine in one var dir; then the goals and the table."""
    a = run.args
    run.prepare()
    if (DATA / "products.csv").is_file() and (DATA / "images").is_dir() and a.ingest > 0:
        ingest(run)
    else:
        msg = f"ingest skipped: {DATA} is absent (the fashion data set is optional)"
        log(msg)
        run.notes.append(msg)
        run.results["ingest"] = {"skipped": msg}
        no_ingest_index(run)
    log(f"elapsed {time.monotonic() - run.started:.0f} s")

    n_products = scale_and_ann(run)
    log(f"elapsed {time.monotonic() - run.started:.0f} s")

    vectors = search(run, n_products=n_products)
    filtered(run, n_products=n_products, vectors=vectors)
    load_and_memory(run)
    run.results["insights"] = insights_overhead(run)
    log(f"insights: {run.results['insights']}")
    if not a.skip_remote:
        run.results["remote"] = remote(run)
        log(f"remote: {run.results['remote']}")
    run.results["meta"]["load_average_at_end"] = [rnd(x) for x in os.getloadavg()]
    run.results["meta"]["wall_s"] = rnd(time.monotonic() - run.started, 0)
    run.results["meta"]["web"] = f"gunicorn, {a.workers} sync workers, 127.0.0.1:{a.port}"
    run.results["notes"] = run.notes
    return report(run.results)


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
    parser.add_argument("--load-seconds", type=int, default=60, help="wrk, mode=vector")
    parser.add_argument("--hybrid-load-seconds", type=int, default=20, help="0: none")
    parser.add_argument("--hybrid-requests", type=int, default=30, help="sequential, hybrid")
    parser.add_argument("--load-queries", type=int, default=20_000)
    parser.add_argument(
        "--insights-requests", type=int, default=100, help="hybrid queries, each sent to both webs"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--port", type=int, default=8090, help="web; the remote web gets +1, insights' +2"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--torch-threads", type=int, default=1, help="per process")
    parser.add_argument("--sigma", type=float, default=0.6, help="synthetic vector noise")
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
    if not 8090 <= args.port <= 8096:  # the webs beside it take +1 and +2
        raise SystemExit("--port must be within 8090-8096 (this machine's bench ports: 8090-8098)")
    os.environ["OMP_NUM_THREADS"] = str(args.torch_threads)  # before torch is imported
    run = Run(args)
    code = 1
    try:
        code = calibrate(run) if args.calibrate else run_all(run)
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        run.stop_everything()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
