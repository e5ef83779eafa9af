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
   stored by the worker (`pipeline`). `raw`: search.encoding.encode_documents alone on the
   same ProductDocuments, same chunks, same torch threads, in this process. Rounds
   alternate so a change of machine load hits both.
2. scale: a synthetic catalog (fashion rows cycled, 100 synthetic brands) and synthetic
   vectors written with COPY straight into the active index, at 10k and then at
   --products; the HNSW index is rebuilt after each load (as pgvector recommends for bulk
   loads). The vectors are mixtures of two real MiniLM product vectors of the same article
   type plus Gaussian noise (see `synthetic_vectors`), so real MiniLM queries land in a
   realistic neighbourhood.
3. ann: recall@10 of the shipped ANN SQL (search.retrieval.vector_candidates) against the
   same SQL with index scans off (exact), and the curve over ef_search.
4. search: query encoding, the ANN SQL and the HTTP API (mode=vector, then hybrid), one
   distinct query per request so the ranking and query-vector caches never answer.
5. filtered: a brand filter that keeps 1% of the catalog; page fill rate and latency.
6. load: wrk, 16 connections for 60 s on loopback, distinct hybrid queries; then RSS.
7. remote: the same query encoded by the `query` worker (VITRINE_REMOTE_INFERENCE) against
   in-process encoding, and the API served by a web process that holds no model.

Exit status: 0 when every goal is met, 2 when one is missed (everything is still written),
1 on an error. `--calibrate N` runs the real-vs-synthetic recall comparison instead.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = Path(os.environ.get("VITRINE_FASHION_DIR", ROOT.parent / "shared" / "data" / "fashion"))
RESULTS = BENCH / "results"
PY = sys.executable
sys.path.insert(0, str(ROOT))
SYNTH_PREFIX = "SYN-"
FASH_PREFIX = "FASH-"
N_BRANDS = 100  # synthetic brands, uniform: one brand = a 1%-selective filter
RECALL_EPSILON = 1e-3  # ann-benchmarks' default for k-NN recall (on the distance)

# Goals from issue 6: (key, comparison, limit).
GOALS = [
    ("ingest.ratio", ">=", 0.8),
    ("search.overhead_ratio", "<=", 1.5),
    ("ann.recall_at_10", ">=", 0.95),
    ("ann.speedup_vs_exact", ">=", 10.0),
    ("filtered.fill_rate", ">=", 1.0),
    ("load.errors", "<=", 0),
]

# Words for distinct shopper queries ("navy blue linen shirts for men, casual"): 72,000
# combinations, dealt out without repeats across the phases of a run.
COLOURS = (
    "black white navy blue red green grey brown beige pink purple yellow orange maroon olive "
    "teal cream silver gold khaki charcoal mustard turquoise lavender"
).split()
ARTICLES = [
    "shirts", "t-shirts", "jeans", "trousers", "shorts", "dresses", "skirts", "tops",
    "kurtas", "sarees", "jackets", "sweaters", "sweatshirts", "track pants", "leggings",
    "casual shoes", "sports shoes", "formal shoes", "heels", "flats", "sandals", "flip flops",
    "socks", "belts", "wallets", "handbags", "backpacks", "watches", "sunglasses", "caps",
    "scarves", "ties", "earrings", "necklaces", "bracelets", "rings", "perfume", "lipstick",
    "nail polish", "deodorant", "briefs", "bras", "night suits", "innerwear vests", "jumpsuit",
    "blazers", "waistcoats", "capris", "stoles", "clutches",
]  # fmt: skip
AUDIENCES = ["for men", "for women", "for boys", "for girls", "unisex", "for kids"]
QUALIFIERS = [
    "casual", "formal", "sports", "party wear", "ethnic", "summer", "winter", "cotton",
    "slim fit", "everyday",
]  # fmt: skip


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rnd(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


class QueryTexts:
    """Distinct query strings, dealt out in order (shuffled once, seeded)."""

    def __init__(self, seed: int = 6) -> None:
        combos = [
            f"{c} {a} {u} {q}"
            for c in COLOURS
            for a in ARTICLES
            for u in AUDIENCES
            for q in QUALIFIERS
        ]
        random.Random(seed).shuffle(combos)
        self.combos = combos
        self.next = 0

    def take(self, n: int) -> list[str]:
        if self.next + n > len(self.combos):
            raise RuntimeError("out of distinct queries; lower the request counts")
        out = self.combos[self.next : self.next + n]
        self.next += n
        return out


# --- processes -------------------------------------------------------------------------------


class Children:
    """The processes this run starts: each in its own process group, output to a log file;
    stopped (SIGTERM, then SIGKILL after a grace) in reverse order. Only these are touched."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_file = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept by Popen)
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        self.procs[name] = proc
        return proc

    def check(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with code {proc.returncode}:\n{tail}")

    def stop(self, name: str, grace: float = 15.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # the group leader: Celery and gunicorn stop their children
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left in its group
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)


def child_env(root: Path, database_url: str, redis_url: str, torch_threads: str) -> dict:
    """The environment of every process the bench starts (and of the bench itself)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VITRINE_VAR_DIR": str(root),
        "VITRINE_MEDIA_ROOT": str(root / "media"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Production-shaped: DEBUG off (no per-query bookkeeping in Django).
        "VITRINE_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        # Plain HTTP on loopback, as behind a TLS-terminating proxy.
        "VITRINE_SSL_REDIRECT": "0",
        # One client address (loopback) sends everything: the anonymous rate limit
        # (120/min by default) would turn the load test into 429s.
        "VITRINE_ANON_THROTTLE": "100000000/min",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # Torch threads per process (see --torch-threads).
        "OMP_NUM_THREADS": torch_threads,
        "MKL_NUM_THREADS": torch_threads,
        "PYTHONUNBUFFERED": "1",
    }


def gunicorn_args(port: int, workers: int) -> list[str]:
    """The web as the bench serves it: gunicorn's sync workers on loopback."""
    args = [PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    return args + ["--workers", str(workers), "--timeout", "60", "--worker-tmp-dir", "/dev/shm"]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def rss_mb(pid: int) -> dict[str, float]:
    """RSS and PSS (shared pages split between sharers) of a process and its descendants."""
    import psutil

    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    rss = pss = 0.0
    per = []
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        per.append(round(info.rss / 2**20, 1))
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1), "per_process": per}


# --- HTTP ------------------------------------------------------------------------------------


def http_get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes, float]:
    """One GET on a fresh connection (gunicorn's sync workers close after each response);
    returns status, body and the client-side milliseconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def search_path(query: str, **params) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": query, "page_size": 20, **params})


def wait_for_search(port: int, proc_check, timeout: float = 180.0) -> None:
    """Until the web answers a vector search (its workers loaded the model and the index)."""
    deadline = time.monotonic() + timeout
    warm = QueryTexts(seed=99).take(1000)  # never used for measurements
    i = ok = 0
    while True:
        proc_check()
        try:
            status, _, _ = http_get(port, search_path(warm[i % 1000], mode="vector"), 60)
            ok = ok + 1 if status == 200 else 0
        except OSError:
            ok = 0
        i += 1
        if ok >= 12:  # every worker has answered a few (the first one per worker loads)
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the web on port {port} did not answer searches in {timeout} s")
        time.sleep(0.05 if ok else 0.5)


# --- synthetic catalog -----------------------------------------------------------------------


def fashion_rows() -> list[dict]:
    import csv

    if (DATA / "products.csv").is_file():
        with open(DATA / "products.csv", newline="", encoding="utf-8") as handle:
            return [r for r in csv.DictReader(handle) if r["productDisplayName"]]
    # No data set: make rows of the same shape from the query vocabulary.
    rows = []
    for i, (c, a, u) in enumerate(
        (c, a, u) for c in COLOURS for a in ARTICLES for u in AUDIENCES[:4]
    ):
        rows.append({
            "id": str(i), "productDisplayName": f"Bench {c.title()} {a.title()} {u}",
            "masterCategory": "Apparel", "subCategory": a.split()[0].title(), "articleType": a,
            "gender": u.split()[-1], "baseColour": c, "season": "", "year": "", "usage": "",
        })  # fmt: skip
    return rows


def synthetic_vectors(
    base: np.ndarray, base_group: list[str], groups: list[str], *, sigma: float, seed: int
) -> np.ndarray:
    """One unit vector per synthetic product: a random mixture of two real product vectors
    of the same article type (any two when the type has none), plus isotropic Gaussian noise
    of norm ~sigma, renormalised. Mixtures stay on the low-dimensional manifold that real
    MiniLM embeddings span (unlike uniform random unit vectors, where every point is almost
    equidistant from every other and no index can tell neighbours apart); the noise keeps
    products of the same pair from being duplicates."""
    rng = np.random.default_rng(seed)
    by_group: dict[str, np.ndarray] = {}
    for i, g in enumerate(base_group):
        by_group.setdefault(g, []).append(i)
    by_group = {g: np.asarray(ix) for g, ix in by_group.items()}
    everything = np.arange(len(base))
    n, dims = len(groups), base.shape[1]
    a = np.empty(n, dtype=np.int64)
    b = np.empty(n, dtype=np.int64)
    groups_arr = np.asarray(groups)
    for g in set(groups):
        rows = np.nonzero(groups_arr == g)[0]
        pool = by_group.get(g, everything)
        a[rows] = pool[rng.integers(0, len(pool), len(rows))]
        b[rows] = pool[rng.integers(0, len(pool), len(rows))]
    alpha = rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32)
    vectors = alpha * base[a] + (1 - alpha) * base[b]
    vectors += rng.standard_normal((n, dims), dtype=np.float32) * (sigma / np.sqrt(dims))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no extension
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def halfvec_copy_rows(index_id: int, product_ids: np.ndarray, vectors: np.ndarray) -> bytes:
    """Rows of a binary COPY stream for search_productembedding (index_id, product_id,
    embedding, document_hash, index_error, embedded_at), built with numpy in one go:
    pgvector's binary halfvec is int16 dims, int16 unused, then big-endian float16s.
    The stream is COPY_HEADER, any number of these, COPY_TRAILER."""
    n, dims = vectors.shape
    now_us = int((time.time() - 946684800) * 1_000_000)  # PostgreSQL epoch 2000-01-01
    doc_hash = b"synthetic"
    row = np.dtype([
        ("nfields", ">i2"),
        ("l_index", ">i4"), ("index_id", ">i8"),
        ("l_product", ">i4"), ("product_id", ">i8"),
        ("l_embedding", ">i4"), ("dims", ">i2"), ("unused", ">i2"), ("vec", ">f2", (dims,)),
        ("l_hash", ">i4"), ("hash", f"S{len(doc_hash)}"),
        ("l_error", ">i4"),
        ("l_time", ">i4"), ("time", ">i8"),
    ])  # fmt: skip
    rows = np.zeros(n, dtype=row)
    rows["nfields"] = 6
    rows["l_index"], rows["index_id"] = 8, index_id
    rows["l_product"], rows["product_id"] = 8, product_ids
    rows["l_embedding"], rows["dims"] = 4 + 2 * dims, dims
    rows["vec"] = vectors.astype(np.float16)
    rows["l_hash"], rows["hash"] = len(doc_hash), doc_hash
    rows["l_error"] = 0
    rows["l_time"], rows["time"] = 8, now_us
    return rows.tobytes()


# Imported lazily (after Django is set up): numpy is needed by the helpers above.
import numpy as np  # noqa: E402


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(args.var_dir).resolve()
        self.results: dict = {}
        self.notes: list[str] = []
        self.queries = QueryTexts()
        self.children = Children(self.root / "log")
        self.env: dict[str, str] = {}
        self.index = None
        self.base_encode: dict | None = None
        self.started = time.monotonic()

    # -- setup --------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Fresh var dir, embedded servers, environment for every child, Django here."""
        name = self.root.name
        if self.root.exists():
            if not (name.startswith("vt-bench") or self.root == (ROOT / "var" / "bench")):
                raise SystemExit(f"refusing to wipe {self.root}: use /tmp/vt-bench* or var/bench")
            from config import embedded

            # A previous bench that was killed may have left its servers running here.
            embedded.stop_redis(self.root)
            if (self.root / "pg").is_dir() and embedded.postgres_running(self.root):
                embedded.stop_postgres(self.root)
            shutil.rmtree(self.root)
        (self.root / "log").mkdir(parents=True)
        from config import embedded

        t = time.perf_counter()
        database_url = embedded.ensure_postgres(self.root)
        self.set_shared_buffers(database_url)
        redis_url = embedded.ensure_redis(self.root, stop_at_exit=False)
        log(f"embedded PostgreSQL + Redis up in {time.perf_counter() - t:.1f} s ({self.root})")
        threads = str(self.args.torch_threads)
        self.env = child_env(self.root, database_url, redis_url, threads)
        os.environ.update({k: v for k, v in self.env.items() if k != "PYTHONUNBUFFERED"})
        import django

        django.setup()
        import torch
        from django.core.management import call_command

        torch.set_num_threads(self.args.torch_threads)
        call_command("migrate", verbosity=0)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            pgvector = cursor.fetchone()[0]
        self.results["meta"] = {
            "command": "make bench  (" + " ".join([Path(PY).name, *sys.argv]) + ")",
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_description(),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "postgres": connection.pg_version // 10000,
            "pgvector": pgvector,
            "torch": torch.__version__,
            "torch_threads_per_process": self.args.torch_threads,
            "var_dir": str(self.root),
        }

    def set_shared_buffers(self, database_url: str) -> None:
        """PostgreSQL's buffer cache as production has it (docker-compose.yml gives it
        PG_SHARED_BUFFERS, 1 GB): pgserver starts with 128 MB, in which the 100k HNSW graph
        (116 MB) and the rows it points to do not fit, so every search would copy thousands
        of pages from the OS page cache. Needs a restart."""
        import pgserver
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET shared_buffers = '{self.args.shared_buffers}'")
        # pg_ctl restart keeps the server's command line (its socket directory) as it was.
        user = "pgserver" if os.geteuid() == 0 else None
        pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=self.root / "pg", user=user)

    # -- 1. ingest ----------------------------------------------------------------------------

    def start_embed_worker(self) -> None:
        args = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "embed,default"]
        args += ["-c", "1", "--loglevel", "INFO", "-n", "bench-embed@%h"]
        self.children.start("worker", args, self.env)

    def ingest(self) -> None:
        from django.conf import settings
        from django.db import transaction

        from catalog import importers
        from catalog.models import ImportJob, Product
        from catalog.services import announce_products_changed
        from catalog.signals import products_changed
        from search import receivers
        from search.indexing import active_index

        n_measured = self.args.ingest
        warm = settings.VITRINE_EMBED_TASK_SIZE
        sys.path.insert(0, str(BENCH))
        import import_bench  # noqa: E402  (bench/import_bench.py: the same CSV conversion)

        with tempfile.TemporaryDirectory(prefix="vt-bench-csv-") as tmp:
            data_file = Path(tmp) / "fashion.csv"
            with_photo, _ = import_bench.build_csv(data_file, n_measured + warm)
            if with_photo < n_measured + warm:
                raise SystemExit(f"only {with_photo} products with a photo in {DATA}")
            # The importer announces each batch; here the announcement comes later, timed.
            products_changed.disconnect(receivers.on_products_changed)
            try:
                job = ImportJob.objects.create(
                    source_path=str(data_file), images_path=str(DATA / "images")
                )
                t = time.perf_counter()
                job = importers.run_import(job_id=job.pk)
                import_s = time.perf_counter() - t
            finally:
                products_changed.connect(receivers.on_products_changed)
        if job.created != n_measured + warm or job.failed:
            raise RuntimeError(f"import: {job.created} created, {job.failed} failed")
        ids = list(
            Product.objects.filter(sku__startswith=FASH_PREFIX)
            .order_by("id")
            .values_list("id", flat=True)
        )
        log(f"imported {len(ids)} fashion products with photos in {import_s:.1f} s")
        warm_ids, ids = ids[:warm], ids[warm:]

        self.start_embed_worker()
        t = time.perf_counter()
        with transaction.atomic():
            announce_products_changed(product_ids=warm_ids)
        self.wait_embedded(warm_ids, timeout=300)
        self.index = active_index()
        log(f"worker up, model loaded, warm-up batch stored ({time.perf_counter() - t:.1f} s)")

        from catalog.selectors import products_with_photos
        from search.documents import build_document
        from search.encoding import encode_documents
        from search.inference import get_embedder
        from search.models import ProductEmbedding

        embedder = get_embedder()
        chunks = [ids[i : i + warm] for i in range(0, len(ids), warm)]
        documents = [[build_document(p) for p in products_with_photos(ids=c)] for c in chunks]
        encode_documents(embedder, documents[0][:16])  # first-call allocations
        rounds = []
        for r in range(self.args.ingest_rounds):
            order = ("pipeline", "raw") if r % 2 == 0 else ("raw", "pipeline")
            result = {}
            for what in order:
                if what == "raw":
                    t = time.perf_counter()
                    for docs in documents:
                        encode_documents(embedder, docs)
                    result["raw_s"] = time.perf_counter() - t
                else:
                    ProductEmbedding.objects.filter(index=self.index, product_id__in=ids).delete()
                    started = time.time()
                    with transaction.atomic():
                        announce_products_changed(product_ids=ids)
                    self.wait_embedded(ids, timeout=900)
                    last = ProductEmbedding.objects.filter(
                        index=self.index, product_id__in=ids
                    ).latest("embedded_at")
                    result["pipeline_s"] = last.embedded_at.timestamp() - started
            rounds.append(result)
            log(
                f"ingest round {r + 1}: pipeline {len(ids) / result['pipeline_s']:.1f} docs/s, "
                f"raw encode {len(ids) / result['raw_s']:.1f} docs/s"
            )
        pipeline_s = sum(r["pipeline_s"] for r in rounds)
        raw_s = sum(r["raw_s"] for r in rounds)
        n = len(ids) * len(rounds)
        self.results["ingest"] = {
            "products": len(ids),
            "with_photos": len(ids),
            "rounds": len(rounds),
            "pipeline_docs_per_s": rnd(n / pipeline_s, 1),
            "raw_encode_docs_per_s": rnd(n / raw_s, 1),
            "ratio": rnd(raw_s / pipeline_s, 3),
            "per_round": [
                {
                    "pipeline_docs_per_s": rnd(len(ids) / r["pipeline_s"], 1),
                    "raw_encode_docs_per_s": rnd(len(ids) / r["raw_s"], 1),
                }
                for r in rounds
            ],
            "import_rows_per_s": rnd((len(ids) + warm) / import_s, 0),
            "model": embedder.model_id,
            "modalities": embedder.modalities,
            "task_size": warm,
            "batch_size": settings.VITRINE_EMBED_BATCH_SIZE,
        }

    def wait_embedded(self, ids: list[int], timeout: float) -> None:
        from search.models import ProductEmbedding

        deadline = time.monotonic() + timeout
        want = len(ids)
        lo, hi = min(ids), max(ids)
        while True:
            self.children.check("worker")
            done = (
                ProductEmbedding.objects.filter(product_id__gte=lo, product_id__lte=hi)
                .filter(product_id__in=ids, embedding__isnull=False)
                .count()
            )
            if done >= want:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done}/{want} products embedded after {timeout} s")
            time.sleep(0.2)

    def no_ingest_index(self) -> None:
        """Without the fashion data: the active index for the default model, made here."""
        from search.indexing import ensure_index_for
        from search.inference import get_embedder

        self.index = ensure_index_for(get_embedder())
        self.start_embed_worker()  # /healthz and the memory figures want one

    # -- 2. synthetic catalog ---------------------------------------------------------------

    def base_vectors(self, want: int) -> tuple[np.ndarray, list[str]]:
        """`want` real MiniLM document vectors to build synthetic ones from, with their
        article types: the ingested products' stored vectors, then more fashion rows encoded
        here (document text as build_document writes it, without photo: MiniLM reads text).
        One base per 10 synthetic products keeps the density at which the synthetic recall
        curve was calibrated against real vectors (see --calibrate)."""
        from search.documents import ProductDocument
        from search.encoding import encode_documents
        from search.inference import embedder_for_index
        from search.models import ProductEmbedding

        stored = list(
            ProductEmbedding.objects.filter(index=self.index, embedding__isnull=False)
            .exclude(product__sku__startswith=SYNTH_PREFIX)
            .values_list("embedding", "product__category__name", "product__sku")
        )
        vectors = [np.asarray(e, dtype=np.float32) for e, _, _ in stored]
        groups = [(c or "").lower() for _, c, _ in stored]
        taken = {sku.removeprefix(FASH_PREFIX) for _, _, sku in stored}
        rows = [r for r in fashion_rows() if r["id"] not in taken][: max(0, want - len(stored))]
        if rows:
            t = time.perf_counter()
            documents = []
            for i, r in enumerate(rows):
                attributes = "; ".join(
                    f"{k}: {r[k]}" for k in ("gender", "baseColour", "season", "year", "usage")
                    if r.get(k)
                )  # fmt: skip
                text = "\n".join([
                    r["productDisplayName"],
                    f"Brand: {r['productDisplayName'].split(' ', 1)[0]}",
                    f"Category: {r['masterCategory']} / {r['subCategory']} / {r['articleType']}",
                    attributes,
                ])  # fmt: skip
                documents.append(ProductDocument(i, text, None, ""))
            encoded = encode_documents(embedder_for_index(self.index), documents)
            vectors += [encoded.vectors[d.product_id] for d in documents]
            groups += [r["articleType"].lower() for r in rows]
            self.base_encode = {"documents": len(rows), "seconds": time.perf_counter() - t}
            log(f"encoded {len(rows):,} more real fashion documents as bases "
                f"({self.base_encode['seconds']:.0f} s)")  # fmt: skip
        return np.asarray(vectors, dtype=np.float32), groups

    def grow_catalog(
        self, target: int, base: tuple[np.ndarray, list[str]], *, build: bool = True
    ) -> dict:
        """Add synthetic products (COPY) with synthetic vectors (binary COPY) until the
        catalog has `target` products, refresh their keyword documents, rebuild the HNSW
        index. Returns the timings."""
        from django.db import connection

        from catalog.models import Product
        from catalog.services import category_for_path
        from search.indexing import refresh_lexeme_stats, refresh_lexical

        existing = Product.objects.count()
        start_k = Product.objects.filter(sku__startswith=SYNTH_PREFIX).count()
        n = target - existing
        if n <= 0:
            return {}
        rows = fashion_rows()
        chosen = [rows[(start_k + k) % len(rows)] for k in range(n)]
        paths = {
            "/".join([r["masterCategory"], r["subCategory"], r["articleType"]]) for r in chosen
        }
        categories = {p: category_for_path(p).pk for p in sorted(paths)}
        timings = {}

        t = time.perf_counter()
        now = datetime.now(UTC)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                "COPY catalog_product (sku, name, description, brand, price, currency,"
                " attributes, category_id, active, created_at, updated_at) FROM STDIN"
            ) as copy:
                for k, r in enumerate(chosen, start=start_k):
                    attributes = {
                        key: r[key]
                        for key in ("gender", "baseColour", "season", "year", "usage")
                        if r.get(key)
                    }
                    path = "/".join([r["masterCategory"], r["subCategory"], r["articleType"]])
                    copy.write_row((
                        f"{SYNTH_PREFIX}{k:07d}", r["productDisplayName"], "",
                        f"BenchBrand{k % N_BRANDS:02d}", f"{(k % 9000) / 100 + 5:.2f}", "USD",
                        json.dumps(attributes), categories[path], True, now, now,
                    ))  # fmt: skip
            cursor.execute(
                "SELECT id FROM catalog_product WHERE sku >= %s AND sku < %s ORDER BY sku",
                [f"{SYNTH_PREFIX}{start_k:07d}", f"{SYNTH_PREFIX}~"],
            )
            new_ids = np.asarray([row[0] for row in cursor.fetchall()], dtype=np.int64)
        timings["copy_products_s"] = time.perf_counter() - t
        assert len(new_ids) == n, (len(new_ids), n)

        t = time.perf_counter()
        vectors = synthetic_vectors(
            base[0],
            base[1],
            [r["articleType"].lower() for r in chosen],
            sigma=self.args.sigma,
            seed=start_k,
        )
        timings["generate_vectors_s"] = time.perf_counter() - t

        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {self.index.ann_index_name}")
            with cursor.cursor.copy(
                "COPY search_productembedding (index_id, product_id, embedding, document_hash,"
                " index_error, embedded_at) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.write(COPY_HEADER)
                step = 20_000
                for s in range(0, n, step):
                    ids_, vecs_ = new_ids[s : s + step], vectors[s : s + step]
                    copy.write(halfvec_copy_rows(self.index.pk, ids_, vecs_))
                copy.write(COPY_TRAILER)
        timings["copy_vectors_s"] = time.perf_counter() - t

        t = time.perf_counter()
        ids = new_ids.tolist()
        for s in range(0, len(ids), 5000):
            refresh_lexical(product_ids=ids[s : s + 5000])
        # The word statistics the keyword leg weighs words by (the sweeper keeps them in a
        # shop); without them every word weighs 1 and hybrid figures are not the shipped ones.
        refresh_lexeme_stats()
        timings["lexical_s"] = time.perf_counter() - t

        if build:
            timings.update(self.build_hnsw())
        return {k: rnd(v, 1) for k, v in timings.items()}

    def build_hnsw(self, params: tuple[int, int] | None = None) -> dict:
        """(Re)build the active index's HNSW index: the shipped create_ann_index, or with
        these (m, ef_construction). Returns build seconds and sizes."""
        from django.db import connection

        from search.indexing import create_ann_index

        name = self.index.ann_index_name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
            # What docs/DEPLOY.md gives the production database (PG_MAINTENANCE_WORK_MEM);
            # the embedded server's default (64 MB) would spill the graph at 100k.
            cursor.execute(f"SET maintenance_work_mem = '{self.args.maintenance_work_mem}'")
            t = time.perf_counter()
            if params is None:
                create_ann_index(self.index)
            else:
                dims, pk = int(self.index.dims), int(self.index.pk)
                cursor.execute(
                    f"CREATE INDEX {name} ON search_productembedding USING hnsw "
                    f"((embedding::halfvec({dims})) halfvec_cosine_ops) "
                    f"WITH (m = {params[0]}, ef_construction = {params[1]}) WHERE index_id = {pk}"
                )
            seconds = time.perf_counter() - t
            cursor.execute("RESET maintenance_work_mem")
            for table in ("catalog_product", "search_productembedding", "search_lexicaldocument"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute(
                "SELECT pg_relation_size(%s), pg_total_relation_size('search_productembedding')",
                [name],
            )
            hnsw_bytes, table_bytes = cursor.fetchone()
        return {
            "hnsw_build_s": seconds,
            "hnsw_index_mb": hnsw_bytes / 2**20,
            "embedding_table_mb": table_bytes / 2**20,
        }

    def upsert_cost(self, batches: int = 16) -> float:
        """p50 ms of the embed task's vector write (search.indexing._embed_into's bulk upsert
        of 64 rows) into the full-size graph: 16 batches of synthetic products, each vector
        nudged so that every row is a real update (a new heap tuple and graph insert)."""
        from search.models import ProductEmbedding

        rows = list(
            ProductEmbedding.objects.filter(
                index=self.index, product__sku__startswith=SYNTH_PREFIX
            ).order_by("product_id")[: 64 * batches]
        )
        rng = np.random.default_rng(7)
        times = []
        for start in range(0, len(rows), 64):
            batch = rows[start : start + 64]
            for row in batch:
                v = np.asarray(row.embedding, dtype=np.float32)
                v = v + rng.standard_normal(len(v)).astype(np.float32) * 0.01
                row.embedding = v / np.linalg.norm(v)
            t = time.perf_counter()
            ProductEmbedding.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["index", "product"],
                update_fields=["embedding", "document_hash", "index_error", "embedded_at"],
            )
            times.append((time.perf_counter() - t) * 1000)
        return rnd(p50(times), 1)

    def n_products(self) -> int:
        from catalog.models import Product

        return Product.objects.filter(active=True).count()

    # -- 3. ANN quality and speed -------------------------------------------------------------

    def encode_texts(self, texts: list[str]) -> tuple[list[np.ndarray], list[float]]:
        """Query vectors the way the web encodes them in-process, and the ms each took."""
        from search.encoding import encode_query
        from search.inference import embedder_for_index

        embedder = embedder_for_index(self.index)
        encode_query(embedder, text="warm up")
        vectors, times = [], []
        for text in texts:
            t = time.perf_counter()
            vectors.append(encode_query(embedder, text=text))
            times.append((time.perf_counter() - t) * 1000)
        return vectors, times

    def encode_then_sql(
        self, texts: list[str]
    ) -> tuple[list[np.ndarray], list[float], list[float]]:
        """Each query encoded, then its ANN SQL run, as a request does: vectors, encode ms,
        SQL ms."""
        from search.encoding import encode_query
        from search.inference import embedder_for_index

        embedder = embedder_for_index(self.index)
        encode_query(embedder, text="warm up")
        vectors, encode_ms, sql_ms = [], [], []
        for text in texts:
            t = time.perf_counter()
            vectors.append(encode_query(embedder, text=text))
            encode_ms.append((time.perf_counter() - t) * 1000)
            sql_ms.append(self.ann_sql(vectors[-1])[1])
        return vectors, encode_ms, sql_ms

    def ann_sql(self, vector: np.ndarray, *, filters=None, exact: bool = False):
        """search.retrieval.vector_candidates itself (the shipped SQL, limit and settings);
        exact: the same statement with index scans off, i.e. a full scan and sort."""
        from django.conf import settings
        from django.db import connection, transaction

        from search.retrieval import vector_candidates

        t = time.perf_counter()
        if exact:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                found = vector_candidates(
                    index=self.index,
                    query_vector=vector,
                    limit=settings.SEARCH_MAX_CANDIDATES,
                    filters=filters,
                )
        else:
            found = vector_candidates(
                index=self.index,
                query_vector=vector,
                limit=settings.SEARCH_MAX_CANDIDATES,
                filters=filters,
            )
        return found, (time.perf_counter() - t) * 1000

    def recall(self, vectors: list[np.ndarray], exact: list, ef: int) -> tuple[float, float, float]:
        """Recall@10 of the ANN leg at this ef_search against the exact top 10, two ways, and
        its p50 ms. Standard (ann-benchmarks' k-NN recall): a result counts when its cosine
        distance is within RECALL_EPSILON of the exact 10th neighbour's, so near-duplicates
        that tie to the third decimal are interchangeable. Strict: within 1e-6 (the same
        products, or exactly equal distances)."""
        from django.conf import settings

        shipped = settings.SEARCH_HNSW_EF_SEARCH
        settings.SEARCH_HNSW_EF_SEARCH = ef
        try:
            standard, strict, times = [], [], []
            for vector, truth in zip(vectors, exact, strict=True):
                found, ms = self.ann_sql(vector)
                times.append(ms)
                if len(truth) < 10:
                    continue
                tenth = truth[9].retrieval_score  # similarity = 1 - distance
                top = found[:10]
                standard.append(sum(c.retrieval_score >= tenth - RECALL_EPSILON for c in top) / 10)
                strict.append(sum(c.retrieval_score >= tenth - 1e-6 for c in top) / 10)
            return statistics.fmean(standard), statistics.fmean(strict), p50(times)
        finally:
            settings.SEARCH_HNSW_EF_SEARCH = shipped

    def measure_ann(self, vectors: list[np.ndarray], *, curve: bool) -> dict:
        from django.conf import settings

        for v in vectors[:5]:  # warm the caches
            self.ann_sql(v)
            self.ann_sql(v, exact=True)
        exact, exact_ms = [], []
        for v in vectors:
            found, ms = self.ann_sql(v, exact=True)
            exact.append(found)
            exact_ms.append(ms)
        shipped = settings.SEARCH_HNSW_EF_SEARCH
        recall, strict, ann_ms = self.recall(vectors, exact, shipped)
        out = {
            "queries": len(vectors),
            "ef_search": shipped,
            "recall_at_10": rnd(recall, 4),
            "recall_at_10_strict": rnd(strict, 4),
            "recall_epsilon": RECALL_EPSILON,
            "ann_p50_ms": rnd(ann_ms),
            "exact_p50_ms": rnd(p50(exact_ms)),
            "speedup_vs_exact": rnd(p50(exact_ms) / ann_ms, 1),
        }
        if curve:
            out["curve"] = []
            for ef in self.args.ef_curve:
                r, r_strict, ms = self.recall(vectors, exact, ef)
                out["curve"].append({
                    "ef_search": ef, "recall_at_10": rnd(r, 4),
                    "recall_at_10_strict": rnd(r_strict, 4), "p50_ms": rnd(ms),
                })  # fmt: skip
                log(f"  ef_search {ef:>4}: recall@10 {r:.4f} (strict {r_strict:.4f}), "
                    f"p50 {ms:.2f} ms")  # fmt: skip
        return out

    def explain_ann(self, vector: np.ndarray) -> str:
        """EXPLAIN ANALYZE of the shipped ANN statement, caught as vector_candidates sends it
        (to check that the HNSW index is used and that no JIT compilation runs)."""
        from django.conf import settings
        from django.db import connection, transaction

        from search.retrieval import vector_candidates

        captured: dict = {}

        def catch(execute, sql, params, many, context):
            if "nearest" in sql:
                # vector_candidates sends its set_config and the query as one message.
                captured.update(sql=sql.split(";\n", 1)[-1], params=params)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(catch):
            vector_candidates(
                index=self.index, query_vector=vector, limit=settings.SEARCH_MAX_CANDIDATES
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('hnsw.ef_search', %s, true)",
                [str(settings.SEARCH_HNSW_EF_SEARCH)],
            )
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured["sql"], captured["params"])
            return "\n".join(row[0] for row in cursor.fetchall())

    # -- 4. web -------------------------------------------------------------------------------

    def start_web(self, name: str, port: int, *, workers: int, remote: bool) -> None:
        if not port_free(port):
            raise SystemExit(f"port {port} is in use; pick another with --port")
        env = dict(self.env)
        env["VITRINE_REMOTE_INFERENCE"] = "1" if remote else "0"
        self.children.start(name, gunicorn_args(port, workers), env)
        t = time.perf_counter()
        wait_for_search(port, lambda: self.children.check(name))
        log(
            f"{name}: gunicorn ({workers} workers) answering on :{port} "
            f"({time.perf_counter() - t:.1f} s)"
        )

    def api_latency(self, port: int, texts: list[str], **params) -> dict:
        client, server, timings = [], [], {"encode": [], "retrieve": []}
        errors = 0
        counts = []
        for text in texts:
            status, body, ms = http_get(port, search_path(text, **params))
            if status != 200:
                errors += 1
                continue
            data = json.loads(body)
            client.append(ms)
            server.append(data["timings_ms"]["total"])
            for k in timings:
                timings[k].append(data["timings_ms"][k])
            counts.append(len(data["results"]))
        return {
            "requests": len(texts),
            "errors": errors,
            "p50_ms": rnd(p50(client)),
            "p95_ms": rnd(percentile(client, 95)),
            "server_total_p50_ms": rnd(p50(server)),
            "server_encode_p50_ms": rnd(p50(timings["encode"])),
            "server_retrieve_p50_ms": rnd(p50(timings["retrieve"])),
            "results_mean": rnd(statistics.fmean(counts) if counts else 0, 2),
        }

    def load(self, port: int, *, mode: str, seconds: int) -> dict:
        wrk = shutil.which("wrk")
        if not wrk:
            return {"skipped": "wrk is not installed (apt-get install -y wrk)"}
        texts = self.queries.take(self.args.load_queries)
        paths_file = self.root / f"wrk-paths-{mode}.txt"
        paths_file.write_text("\n".join(search_path(t, mode=mode) for t in texts) + "\n")
        threads = 2
        args = [wrk, f"-t{threads}", f"-c{self.args.clients}", f"-d{seconds}s"]
        args += ["--timeout", "30s", "-s", str(BENCH / "wrk_search.lua")]
        args += [f"http://127.0.0.1:{port}", "--", str(paths_file), str(threads)]
        log(f"load: {' '.join(args[1:])}")
        loadavg_before = os.getloadavg()
        proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
        self.drain(port)
        (self.root / "log" / f"wrk-{mode}.log").write_text(proc.stdout + proc.stderr)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        w = json.loads(line.removeprefix("WRK_JSON "))
        seconds = w["duration_us"] / 1e6
        errors = w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
        errors += max(w["status_errors"], w["non200"])
        return {
            "tool": "wrk 4 (" + " ".join(args[1:6]) + ")",
            "clients": self.args.clients,
            "seconds": rnd(seconds, 1),
            "mode": f"{mode}, every query distinct (no cache hits)",
            "requests": w["requests"],
            "distinct_queries_sent": min(w["requests"], len(texts)),
            "rps": rnd(w["requests"] / seconds, 1),
            "p50_ms": rnd(w["p50_us"] / 1000, 1),
            "p95_ms": rnd(w["p95_us"] / 1000, 1),
            "p99_ms": rnd(w["p99_us"] / 1000, 1),
            "max_ms": rnd(w["max_us"] / 1000, 1),
            "errors": errors,
            "load_average_before": [rnd(x) for x in loadavg_before],
            "load_average_after": [rnd(x) for x in os.getloadavg()],
        }

    def drain(self, port: int, timeout: float = 90.0) -> None:
        """After wrk stops, the web still works off the requests it had accepted: wait until
        its processes are idle so the next phase does not share the CPUs with them."""
        import psutil

        name = "web" if port == self.args.port else "web-remote"
        root = psutil.Process(self.children.procs[name].pid)
        procs = [root, *root.children(recursive=True)]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = sum(sum(p.cpu_times()[:2]) for p in procs)
            time.sleep(1.0)
            if sum(sum(p.cpu_times()[:2]) for p in procs) - before < 0.05:
                return

    # -- 7. remote inference ------------------------------------------------------------------

    def remote(self) -> dict:
        from search.remote_inference import encode_query_remotely

        args = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "query", "-c", "1"]
        args += ["--prefetch-multiplier", "1", "-n", "bench-query@%h", "--loglevel", "INFO"]
        env = dict(self.env, VITRINE_WORKER_PRELOAD_MODELS="1")
        self.children.start("query-worker", args, env)
        deadline = time.monotonic() + 180
        while True:  # until the worker answers (it loads the model after fork)
            self.children.check("query-worker")
            try:
                encode_query_remotely(index_id=self.index.pk, text="warm up", photo=None)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        texts = self.queries.take(self.args.requests)
        for text in ["warm", "up", "again"]:
            encode_query_remotely(index_id=self.index.pk, text=text, photo=None)
        local_vectors, local_ms = self.encode_texts(texts)
        remote_ms, max_diff = [], 0.0
        for text, local in zip(texts, local_vectors, strict=True):
            t = time.perf_counter()
            vector = encode_query_remotely(index_id=self.index.pk, text=text, photo=None)
            remote_ms.append((time.perf_counter() - t) * 1000)
            max_diff = max(max_diff, float(np.abs(vector - local).max()))
        self.start_web("web-remote", self.args.port + 1, workers=self.args.workers, remote=True)
        api_remote = self.api_latency(
            self.args.port + 1, self.queries.take(self.args.requests), mode="vector"
        )
        api_local = self.api_latency(
            self.args.port, self.queries.take(self.args.requests), mode="vector"
        )
        rss = rss_mb(self.children.procs["web-remote"].pid)
        rss_query_worker = rss_mb(self.children.procs["query-worker"].pid)
        return {
            "encode_in_process_p50_ms": rnd(p50(local_ms)),
            "encode_remote_p50_ms": rnd(p50(remote_ms)),
            "encode_remote_p95_ms": rnd(percentile(remote_ms, 95)),
            "added_latency_p50_ms": rnd(p50(remote_ms) - p50(local_ms)),
            "max_abs_difference": float(f"{max_diff:.3g}"),
            "api_vector_p50_ms_remote": api_remote["p50_ms"],
            "api_vector_p50_ms_in_process": api_local["p50_ms"],
            "api_added_latency_p50_ms": rnd(api_remote["p50_ms"] - api_local["p50_ms"]),
            "api_vector_p95_ms_remote": api_remote["p95_ms"],
            "api_errors_remote": api_remote["errors"],
            "web_rss_mb_no_model": rss["rss_mb"],
            "web_pss_mb_no_model": rss["pss_mb"],
            "query_worker_rss_mb": rss_query_worker["rss_mb"],
        }

    # -- --calibrate: real vectors against synthetic ones ---------------------------------

    def calibrate(self) -> int:
        """Embed N real fashion products with the default model (in-process, the indexing
        service), then compare the recall curve of their real vectors with that of synthetic
        vectors made the way the main run makes them (from the first 1,024 real ones) for the
        same products, at several noise levels; and uniform random unit vectors. Each set
        gets its own SearchIndex and partial HNSW index; the queries are the main run's."""
        self.prepare()
        from django.db import connection

        from catalog import importers
        from catalog.models import ImportJob, Product
        from catalog.signals import products_changed
        from search import receivers
        from search.indexing import create_ann_index, embed_products, ensure_index_for
        from search.inference import get_embedder
        from search.models import ProductEmbedding, SearchIndex

        n = self.args.calibrate
        sys.path.insert(0, str(BENCH))
        import import_bench

        with tempfile.TemporaryDirectory(prefix="vt-bench-csv-") as tmp:
            data_file = Path(tmp) / "fashion.csv"
            import_bench.build_csv(data_file, n)
            products_changed.disconnect(receivers.on_products_changed)
            job = ImportJob.objects.create(
                source_path=str(data_file), images_path=str(DATA / "images")
            )
            importers.run_import(job_id=job.pk)
        real = self.index = ensure_index_for(get_embedder())
        ids = list(Product.objects.order_by("id").values_list("id", flat=True))
        t = time.perf_counter()
        for start in range(0, len(ids), 256):
            embed_products(product_ids=ids[start : start + 256], index_id=real.pk)
        log(f"embedded {len(ids)} real products in {time.perf_counter() - t:.0f} s")
        rows = list(
            ProductEmbedding.objects.filter(index=real)
            .order_by("product_id")
            .values_list("product_id", "embedding", "product__category__name")
        )
        pids = np.asarray([r[0] for r in rows], dtype=np.int64)
        vecs = np.asarray([np.asarray(r[1], dtype=np.float32) for r in rows])
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        groups = [(r[2] or "").lower() for r in rows]
        variants = {"real all-MiniLM-L6-v2": vecs}
        for sigma in self.args.calibrate_sigmas:
            variants[f"synthetic sigma={sigma}"] = synthetic_vectors(
                vecs[:1024], groups[:1024], groups, sigma=sigma, seed=1
            )
        rng = np.random.default_rng(0)
        uniform = rng.standard_normal(vecs.shape).astype(np.float32)
        variants["uniform random unit"] = uniform / np.linalg.norm(uniform, axis=1, keepdims=True)
        query_vectors, _ = self.encode_texts(self.queries.take(self.args.ann_queries))
        out = {}
        for label, vectors in variants.items():
            index = SearchIndex.objects.create(
                embedder=f"calibration/{label}", dims=vecs.shape[1], modalities=["text"]
            )
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    "COPY search_productembedding (index_id, product_id, embedding, document_hash,"
                    " index_error, embedded_at) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy,
            ):
                copy.write(COPY_HEADER + halfvec_copy_rows(index.pk, pids, vectors) + COPY_TRAILER)
            with connection.cursor() as cursor:
                cursor.execute(f"SET maintenance_work_mem = '{self.args.maintenance_work_mem}'")
                create_ann_index(index)
                cursor.execute("ANALYZE search_productembedding")
            self.index = index
            log(f"{label}:")
            out[label] = self.measure_ann(query_vectors, curve=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "calibration.json").write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nrecall@10 over ef_search, {len(ids):,} products, {len(query_vectors)} queries")
        print(f"  {'vectors':<28}" + "".join(f"{p['ef_search']:>8}" for p in out[label]["curve"]))
        for label, result in out.items():
            print(f"  {label:<28}" + "".join(f"{p['recall_at_10']:>8.3f}" for p in result["curve"]))
        print(f"written: {(RESULTS / 'calibration.json').relative_to(ROOT)}")
        return 0

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> int:
        a = self.args
        self.prepare()
        if (DATA / "products.csv").is_file() and (DATA / "images").is_dir() and a.ingest > 0:
            self.ingest()
        else:
            msg = f"ingest skipped: {DATA} is absent (the fashion data set is optional)"
            log(msg)
            self.notes.append(msg)
            self.results["ingest"] = {"skipped": msg}
            self.no_ingest_index()
        log(f"elapsed {time.monotonic() - self.started:.0f} s")

        base = self.base_vectors(max(a.products // 10, 256))
        ann_texts = self.queries.take(a.ann_queries)
        ann_vectors, _ = self.encode_texts(ann_texts)
        scale = {}
        for target in sorted({min(a.small, a.products), a.products}):
            log(f"growing the catalog to {target:,} products (COPY, lexical, HNSW rebuild)")
            if target == a.products and a.compare_hnsw:
                # pgvector's default graph first, on the same vectors and queries.
                loaded = self.grow_catalog(target, base, build=False)
                built = self.build_hnsw((16, 64))
                log(f"  HNSW m 16, ef_construction 64 (pgvector defaults): {built}")
                default = self.measure_ann(ann_vectors, curve=True)
                default["build"] = {k: rnd(v, 1) for k, v in built.items()}
                default["upsert_64_p50_ms"] = self.upsert_cost()
                log(f"  upsert of 64 vectors into this graph: p50 {default['upsert_64_p50_ms']} ms")
                build = {**loaded, **{k: rnd(v, 1) for k, v in self.build_hnsw().items()}}
            else:
                build = self.grow_catalog(target, base)
            n = self.n_products()
            log(f"  {n:,} products: {build}")
            ann = self.measure_ann(ann_vectors, curve=(target == a.products))
            ann["upsert_64_p50_ms"] = self.upsert_cost()
            log(f"  upsert of 64 vectors into the shipped graph: p50 {ann['upsert_64_p50_ms']} ms")
            scale[str(n)] = {"build": build, **{k: v for k, v in ann.items() if k != "curve"}}
            log(
                f"  recall@10 {ann['recall_at_10']}, ANN p50 {ann['ann_p50_ms']} ms, exact "
                f"p50 {ann['exact_p50_ms']} ms ({ann['speedup_vs_exact']}x)"
            )
        n_products = self.n_products()
        self.results["ann"] = {k: v for k, v in ann.items()}
        if a.compare_hnsw:
            from search.indexing import HNSW_EF_CONSTRUCTION, HNSW_M

            self.results["ann"]["hnsw"] = {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION}
            self.results["ann"]["pgvector_defaults"] = default
        self.results["ann"]["query_vectors"] = (
            "all-MiniLM-L6-v2 encodings of distinct shopper queries"
        )
        self.results["scale"] = scale
        self.results["synthetic"] = {
            "real_base_vectors": len(base[0]),
            "base_encoding": {k: rnd(v, 1) for k, v in (self.base_encode or {}).items()},
            "sigma": a.sigma,
            "recipe": "mixture of two real vectors of the same article type + Gaussian noise",
        }
        self.results["plan"] = self.explain_ann(ann_vectors[0])
        log(f"elapsed {time.monotonic() - self.started:.0f} s")

        # 4. in-process encode + raw SQL, then the API, each with its own distinct queries.
        # The ratio's denominator is what a request cannot avoid: encode a query, then run
        # its SQL, one after the other, as the API does. In two tight loops (every encode,
        # then every SQL) each side keeps its working set in the CPU caches, which no
        # server that does both can: ~3 ms less here. Reported beside it, not used.
        vectors, encode_ms, sql_ms = self.encode_then_sql(self.queries.take(a.requests))
        hot_vectors, hot_encode_ms = self.encode_texts(self.queries.take(a.requests))
        hot_sql_ms = [self.ann_sql(v)[1] for v in hot_vectors]
        self.start_web("web", a.port, workers=a.workers, remote=False)
        api = self.api_latency(a.port, self.queries.take(a.requests), mode="vector")
        hybrid = self.api_latency(a.port, self.queries.take(a.hybrid_requests), mode="hybrid")
        lexical_ms = []
        from search.retrieval import lexical_candidates

        for text in self.queries.take(max(5, a.hybrid_requests // 3)):
            t = time.perf_counter()
            lexical_candidates(query=text, limit=200)
            lexical_ms.append((time.perf_counter() - t) * 1000)
        self.results["search"] = {
            "n_products": n_products,
            "vectors": "synthetic (see ann/scale), written with COPY straight into the index",
            "requests": a.requests,
            "encode_p50_ms": rnd(p50(encode_ms)),
            "sql_p50_ms": rnd(p50(sql_ms)),
            "api_p50_ms": api["p50_ms"],
            "api_p95_ms": api["p95_ms"],
            "overhead_ratio": rnd(api["p50_ms"] / (p50(encode_ms) + p50(sql_ms)), 2),
            "denominator": "per query: encode, then its ANN SQL, in one process, as a request",
            "encode_p50_hot_loop_ms": rnd(p50(hot_encode_ms)),
            "sql_p50_hot_loop_ms": rnd(p50(hot_sql_ms)),
            "overhead_ratio_hot_loops": rnd(
                api["p50_ms"] / (p50(hot_encode_ms) + p50(hot_sql_ms)), 2
            ),
            "api_errors": api["errors"],
            "api_server_total_p50_ms": api["server_total_p50_ms"],
            "api_server_encode_p50_ms": api["server_encode_p50_ms"],
            "api_server_retrieve_p50_ms": api["server_retrieve_p50_ms"],
            "mode": "vector, distinct query per request (no ranking/query-vector cache hits)",
            "hybrid": {**hybrid, "lexical_sql_p50_ms": rnd(p50(lexical_ms))},
        }
        log(f"search: {self.results['search']}")

        # 5. a 1%-selective filter.
        from catalog.models import Product
        from search.services import SearchFilters

        brands = [f"BenchBrand{i:02d}" for i in range(N_BRANDS)]
        selectivity = Product.objects.filter(brand=brands[0]).count() / n_products
        ftexts = self.queries.take(a.filtered_requests)
        fill, fms, sql_fill, sql_fms = [], [], [], []
        for i, text in enumerate(ftexts):
            brand = brands[i % N_BRANDS]
            status, body, ms = http_get(a.port, search_path(text, mode="vector", brand=brand))
            if status == 200:
                data = json.loads(body)
                fill.append(min(len(data["results"]), 20) / 20)
                fms.append(ms)
                assert all(r["sku"].startswith(SYNTH_PREFIX) for r in data["results"])
            else:
                fill.append(0.0)
        from django.conf import settings

        for i, v in enumerate(vectors[: a.filtered_requests]):
            found, ms = self.ann_sql(v, filters=SearchFilters(brands=(brands[i % N_BRANDS],)))
            sql_fill.append(len(found) / settings.SEARCH_MAX_CANDIDATES)
            sql_fms.append(ms)
        self.results["filtered"] = {
            "filter": "brand (one of 100 synthetic brands)",
            "selectivity": rnd(selectivity, 4),
            "page_size": 20,
            "fill_rate": rnd(statistics.fmean(fill), 3),
            "p50_ms": rnd(p50(fms)),
            "p95_ms": rnd(percentile(fms, 95)),
            "sql_p50_ms": rnd(p50(sql_fms)),
            "sql_candidates_fill": rnd(statistics.fmean(sql_fill), 3),
            "max_scan_tuples": settings.SEARCH_HNSW_MAX_SCAN_TUPLES,
        }
        log(f"filtered: {self.results['filtered']}")

        # 6. load, then memory.
        self.results["load"] = self.load(a.port, mode="vector", seconds=a.load_seconds)
        log(f"load: {self.results['load']}")
        if a.hybrid_load_seconds:
            self.results["load_hybrid"] = self.load(
                a.port, mode="hybrid", seconds=a.hybrid_load_seconds
            )
            log(f"load, hybrid: {self.results['load_hybrid']}")
        web = rss_mb(self.children.procs["web"].pid)
        worker = rss_mb(self.children.procs["worker"].pid)
        self.results["memory"] = {
            "web_rss_mb": web["rss_mb"],
            "web_pss_mb": web["pss_mb"],
            "web_processes_rss_mb": web["per_process"],
            "worker_rss_mb": worker["rss_mb"],
            "worker_pss_mb": worker["pss_mb"],
            "worker_processes_rss_mb": worker["per_process"],
        }

        # 7. remote inference.
        if not a.skip_remote:
            self.results["remote"] = self.remote()
            log(f"remote: {self.results['remote']}")
        self.results["meta"]["load_average_at_end"] = [rnd(x) for x in os.getloadavg()]
        self.results["meta"]["wall_s"] = rnd(time.monotonic() - self.started, 0)
        self.results["meta"]["web"] = f"gunicorn, {a.workers} sync workers, 127.0.0.1:{a.port}"
        self.results["notes"] = self.notes
        return self.report()

    def report(self) -> int:
        goals = []
        for key, op, limit in GOALS:
            section, name = key.split(".")
            value = self.results.get(section, {}).get(name)
            if value is None:
                goals.append({"key": key, "goal": f"{op} {limit}", "value": None, "pass": None})
                continue
            ok = value >= limit if op == ">=" else value <= limit
            goals.append({"key": key, "goal": f"{op} {limit}", "value": value, "pass": ok})
        self.results["goals"] = goals
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / "latest.json"
        out.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        print_table(self.results)
        print(f"\nwritten: {out.relative_to(ROOT)}")
        failed = [g["key"] for g in goals if g["pass"] is False]
        if failed:
            print(f"goals missed: {', '.join(failed)}")
            return 2
        print("all goals met" if all(g["pass"] for g in goals) else "some goals not measured")
        return 0


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = "no GPU" if not shutil.which("nvidia-smi") else "NVIDIA GPU present"
    return f"{os.cpu_count()} vCPU {cpu}, {mem:.0f} GiB RAM, {gpu}"


def print_table(r: dict) -> None:
    def row(label: str, value, unit: str = "", goal: str = "") -> None:
        if isinstance(value, float):
            value = f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
        elif isinstance(value, int):
            value = f"{value:,}"
        print(f"  {label:<44} {str(value):>12} {unit:<8} {goal}")

    status = {g["key"]: g for g in r.get("goals", [])}

    def goal(key: str) -> str:
        g = status.get(key)
        if not g or g["pass"] is None:
            return ""
        return f"{'PASS' if g['pass'] else 'FAIL'} (goal {g['goal']})"

    meta = r["meta"]
    print()
    print("=" * 96)
    print(f"  Vitrine make bench — {meta['date']} — {meta['machine']}")
    print(
        f"  model {r.get('ingest', {}).get('model', 'sentence-transformers/all-MiniLM-L6-v2')}, "
        f"PostgreSQL {meta['postgres']} + pgvector {meta['pgvector']}, torch {meta['torch']} "
        f"({meta['torch_threads_per_process']} thread/process); load avg at start "
        f"{meta['load_average_at_start'][0]:.1f}, end "
        f"{meta.get('load_average_at_end', [0])[0]:.1f}"
    )
    print("=" * 96)
    ing = r.get("ingest", {})
    if "skipped" in ing:
        print(f"  ingest: {ing['skipped']}")
    else:
        print(
            f"  ingest ({ing['products']:,} fashion products with photos x {ing['rounds']} rounds)"
        )
        row("pipeline (saved -> vector stored, worker)", ing["pipeline_docs_per_s"], "docs/s")
        row("raw encode_documents, same documents", ing["raw_encode_docs_per_s"], "docs/s")
        row("ratio pipeline / raw", ing["ratio"], "", goal("ingest.ratio"))
    s = r["search"]
    print(f"  search ({s['n_products']:,} products, synthetic vectors; distinct queries)")
    row("encode p50 (in-process, then its SQL)", s["encode_p50_ms"], "ms")
    row("ANN SQL p50 (vector_candidates)", s["sql_p50_ms"], "ms")
    row("API p50, mode=vector", s["api_p50_ms"], "ms")
    row("API p95, mode=vector", s["api_p95_ms"], "ms")
    row("overhead api_p50 / (encode + sql)", s["overhead_ratio"], "", goal("search.overhead_ratio"))
    if "encode_p50_hot_loop_ms" in s:
        row(
            "  same, encode and SQL in tight loops",
            f"{s['overhead_ratio_hot_loops']} ({s['encode_p50_hot_loop_ms']} + "
            f"{s['sql_p50_hot_loop_ms']} ms)",
        )
    row(
        "API p50 / p95, mode=hybrid",
        f"{s['hybrid']['p50_ms']:.1f} / {s['hybrid']['p95_ms']:.1f}",
        "ms",
    )
    ann = r["ann"]
    print(f"  ann (ef_search {ann['ef_search']}, {ann['queries']} queries)")
    row("recall@10 vs exact (distance eps 1e-3)", ann["recall_at_10"], "", goal("ann.recall_at_10"))
    row("recall@10 strict (same products)", ann.get("recall_at_10_strict"))
    row("ANN p50 / exact p50", f"{ann['ann_p50_ms']:.1f} / {ann['exact_p50_ms']:.1f}", "ms")
    row("speedup vs exact", ann["speedup_vs_exact"], "x", goal("ann.speedup_vs_exact"))
    defaults = {p["ef_search"]: p for p in ann.get("pgvector_defaults", {}).get("curve", [])}
    if ann.get("hnsw"):
        h = ann["hnsw"]
        print(
            f"    recall@10 / p50 ms over ef_search: shipped graph (m {h['m']}, "
            f"ef_construction {h['ef_construction']}) | pgvector defaults (m 16, 64)"
        )
    for point in ann.get("curve", []):
        other = defaults.get(point["ef_search"])
        extra = f"| {other['recall_at_10']:.4f} / {other['p50_ms']:.1f} ms" if other else ""
        row(
            f"  ef_search {point['ef_search']}",
            f"{point['recall_at_10']:.4f}",
            f"{point['p50_ms']:.1f} ms",
            extra,
        )
    f = r["filtered"]
    print(f"  filtered (brand filter, selectivity {f['selectivity']:.2%})")
    row("fill rate (results / page of 20)", f["fill_rate"], "", goal("filtered.fill_rate"))
    row("API p50 / p95", f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f}", "ms")
    row("SQL p50", f["sql_p50_ms"], "ms")
    for key in ("load", "load_hybrid"):
        ld = r.get(key)
        if not ld:
            continue
        if "skipped" in ld:
            print(f"  load: {ld['skipped']}")
            continue
        print(f"  {key} ({ld['clients']} clients, {ld['seconds']:.0f} s, {ld['mode']})")
        row("throughput", ld["rps"], "req/s")
        row("p50 / p95 latency", f"{ld['p50_ms']:.0f} / {ld['p95_ms']:.0f}", "ms")
        row("errors (non-200, socket, timeout)", ld["errors"], "", goal(f"{key}.errors"))
    m = r["memory"]
    print("  memory after the load")
    row("web (gunicorn master + workers) RSS", m["web_rss_mb"], "MB")
    row("worker (celery main + pool) RSS", m["worker_rss_mb"], "MB")
    rem = r.get("remote")
    if rem:
        print("  remote inference (query worker on the `query` queue)")
        row(
            "encode p50 in-process / remote",
            f"{rem['encode_in_process_p50_ms']:.1f} / {rem['encode_remote_p50_ms']:.1f}",
            "ms",
        )
        row("added latency p50 (encode)", rem["added_latency_p50_ms"], "ms")
        row(
            "API vector p50 in-process / remote",
            f"{rem['api_vector_p50_ms_in_process']:.1f} / {rem['api_vector_p50_ms_remote']:.1f}",
            "ms",
        )
        row("web RSS without a model", rem["web_rss_mb_no_model"], "MB")
    sc = r.get("scale", {})
    if sc:
        print("  cost growth")
        for n, v in sc.items():
            b = v.get("build", {})
            row(
                f"{int(n):,} products: HNSW build / size",
                f"{b.get('hnsw_build_s', 0):.0f} s / {b.get('hnsw_index_mb', 0):.0f} MB",
            )
            row(
                f"{int(n):,} products: ANN / exact p50",
                f"{v['ann_p50_ms']:.1f} / {v['exact_p50_ms']:.1f}",
                "ms",
            )
            row(f"{int(n):,} products: recall@10", v["recall_at_10"])
            row(f"{int(n):,} products: upsert of 64 vectors p50", v.get("upsert_64_p50_ms"), "ms")
    d = ann.get("pgvector_defaults")
    if d:
        b = d["build"]
        row(
            "pgvector-default graph: build / upsert 64",
            f"{b['hnsw_build_s']:.0f} s / {d['upsert_64_p50_ms']:.0f} ms",
            "",
            f"(recall@10 {d['recall_at_10']} at ef_search {d['ef_search']})",
        )
    print("=" * 96)


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
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--port", type=int, default=8090, help="web; the remote web gets +1")
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
    if not 8090 <= args.port <= 8098:
        raise SystemExit("--port must be within 8090-8098 (this machine's bench ports)")
    os.environ["OMP_NUM_THREADS"] = str(args.torch_threads)  # before torch is imported
    bench = Bench(args)
    code = 1
    try:
        code = bench.calibrate() if args.calibrate else bench.run()
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        log("stopping what the bench started")
        bench.children.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        from config import embedded

        try:
            embedded.stop_redis(bench.root)
            if (bench.root / "pg").is_dir() and embedded.postgres_running(bench.root):
                embedded.stop_postgres(bench.root)
        except Exception as exc:
            log(f"could not stop the embedded servers: {exc}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
