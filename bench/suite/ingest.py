"""Phase 6, ingest: fashion products with photos imported, announced, embedded by the worker
into the full catalog's index (its upserts go into the large HNSW graph), against
encode_documents alone on the same documents in this process."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from suite.common import BENCH, DATA, FASH_PREFIX, log, rnd
from suite.state import Run


def ingest(run: Run) -> None:
    from django.conf import settings
    from django.db import transaction

    from catalog.imports import runner
    from catalog.models import ImportJob, Product
    from catalog.services import announce_products_changed
    from catalog.signals import products_changed
    from search import receivers
    from search.indexing.indexes import active_index

    n_measured = run.args.ingest
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
            job = runner.run_import(job_id=job.pk)
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

    catalog_products = Product.objects.count() - len(ids) - len(warm_ids)
    if "worker" not in run.children.procs:
        run.start_embed_worker()
    t = time.perf_counter()
    with transaction.atomic():
        announce_products_changed(product_ids=warm_ids)
    wait_embedded(run, warm_ids, timeout=300)
    if active_index().pk != run.index.pk:
        raise RuntimeError("the worker embedded into another index than the bench's")
    log(f"worker up, model loaded, warm-up batch stored ({time.perf_counter() - t:.1f} s)")

    from catalog.selectors import products_with_photos
    from search.documents import build_document
    from search.inference.encoding import encode_documents
    from search.inference.loading import get_embedder
    from search.models import ProductEmbedding

    embedder = get_embedder()
    chunks = [ids[i : i + warm] for i in range(0, len(ids), warm)]
    documents = [[build_document(p) for p in products_with_photos(ids=c)] for c in chunks]
    encode_documents(embedder, documents[0][:16])  # first-call allocations
    rounds = []
    for r in range(run.args.ingest_rounds):
        order = ("pipeline", "raw") if r % 2 == 0 else ("raw", "pipeline")
        result = {}
        for what in order:
            if what == "raw":
                t = time.perf_counter()
                for docs in documents:
                    encode_documents(embedder, docs)
                result["raw_s"] = time.perf_counter() - t
            else:
                ProductEmbedding.objects.filter(index=run.index, product_id__in=ids).delete()
                started = time.time()
                with transaction.atomic():
                    announce_products_changed(product_ids=ids)
                wait_embedded(run, ids, timeout=900)
                stored = ProductEmbedding.objects.filter(index=run.index, product_id__in=ids)
                last = stored.latest("embedded_at")
                result["pipeline_s"] = last.embedded_at.timestamp() - started
        rounds.append(result)
        log(
            f"ingest round {r + 1}: pipeline {len(ids) / result['pipeline_s']:.1f} docs/s, "
            f"raw encode {len(ids) / result['raw_s']:.1f} docs/s"
        )
    pipeline_s = sum(r["pipeline_s"] for r in rounds)
    raw_s = sum(r["raw_s"] for r in rounds)
    n = len(ids) * len(rounds)
    run.results["ingest"] = {
        "products": len(ids),
        "with_photos": len(ids),
        "catalog_products": catalog_products,
        "into": "the full catalog's index and HNSW graph",
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


def wait_embedded(run: Run, ids: list[int], timeout: float) -> None:
    from search.models import ProductEmbedding

    deadline = time.monotonic() + timeout
    want = len(ids)
    lo, hi = min(ids), max(ids)
    while True:
        run.children.check("worker")
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
