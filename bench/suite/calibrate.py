"""`--calibrate N`: recall over ef_search of N real fashion products' vectors against
synthetic vectors made the way the main run makes them (bench/results/calibration.json)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from suite.ann import measure_ann
from suite.common import BENCH, DATA, RESULTS, ROOT, log
from suite.state import Run
from suite.store import COPY_HEADER, COPY_TRAILER, halfvec_copy_rows
from suite.synthetic import synthetic_vectors


def calibrate(run: Run) -> int:
    """Embed N real fashion products with the default model (in-process, the indexing
    service), then compare the recall curve of their real vectors with that of synthetic
    vectors made the way the main run makes them (from the first 1,024 real ones) for the
    same products, at several noise levels; and uniform random unit vectors. Each set
    gets its own SearchIndex and partial HNSW index; the queries are the main run's."""
    run.prepare()
    from django.db import connection

    from catalog.imports import runner
    from catalog.models import ImportJob, Product
    from catalog.signals import products_changed
    from search import receivers
    from search.indexing.embedding import embed_products
    from search.indexing.indexes import create_ann_index, ensure_index_for
    from search.inference.loading import get_embedder
    from search.models import ProductEmbedding, SearchIndex

    n = run.args.calibrate
    sys.path.insert(0, str(BENCH))
    import import_bench

    with tempfile.TemporaryDirectory(prefix="vt-bench-csv-") as tmp:
        data_file = Path(tmp) / "fashion.csv"
        import_bench.build_csv(data_file, n)
        products_changed.disconnect(receivers.on_products_changed)
        job = ImportJob.objects.create(source_path=str(data_file), images_path=str(DATA / "images"))
        runner.run_import(job_id=job.pk)
    real = run.index = ensure_index_for(get_embedder())
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
    for sigma in run.args.calibrate_sigmas:
        variants[f"synthetic sigma={sigma}"] = synthetic_vectors(
            vecs[:1024], groups[:1024], groups, sigma=sigma, seed=1
        )
    rng = np.random.default_rng(0)
    uniform = rng.standard_normal(vecs.shape).astype(np.float32)
    variants["uniform random unit"] = uniform / np.linalg.norm(uniform, axis=1, keepdims=True)
    query_texts = run.queries.take(run.args.ann_queries)
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
            cursor.execute(f"SET maintenance_work_mem = '{run.args.maintenance_work_mem}'")
            create_ann_index(index)
            cursor.execute("ANALYZE search_productembedding")
        run.index = index
        log(f"{label}:")
        out[label] = measure_ann(run, query_texts, curve=True, embedder=get_embedder())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "calibration.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nrecall@10 over ef_search, {len(ids):,} products, {len(query_texts)} queries")
    print(f"  {'vectors':<28}" + "".join(f"{p['ef_search']:>8}" for p in out[label]["curve"]))
    for label, result in out.items():
        print(f"  {label:<28}" + "".join(f"{p['recall_at_10']:>8.3f}" for p in result["curve"]))
    print(f"written: {(RESULTS / 'calibration.json').relative_to(ROOT)}")
    return 0
