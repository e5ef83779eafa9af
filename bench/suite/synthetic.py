"""Phase 2, scale: a synthetic catalog (fashion rows cycled, 100 synthetic brands) with
synthetic vectors, written with COPY straight into the active index, and its HNSW graph.

The vectors are mixtures of two real MiniLM product vectors of the same article type plus
Gaussian noise (see `synthetic_vectors`), so real MiniLM queries land in a realistic
neighbourhood.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime

import numpy as np

from suite.common import (
    ARTICLES,
    AUDIENCES,
    COLOURS,
    DATA,
    FASH_PREFIX,
    N_BRANDS,
    SYNTH_PREFIX,
    log,
    p50,
    rnd,
)
from suite.state import Run


def fashion_rows() -> list[dict]:
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


def base_vectors(run: Run, want: int) -> tuple[np.ndarray, list[str]]:
    """`want` real MiniLM document vectors to build synthetic ones from, with their
    article types: the ingested products' stored vectors, then more fashion rows encoded
    here (document text as build_document writes it, without photo: MiniLM reads text).
    One base per 10 synthetic products keeps the density at which the synthetic recall
    curve was calibrated against real vectors (see --calibrate)."""
    from search.documents import ProductDocument
    from search.inference.encoding import encode_documents
    from search.inference.loading import embedder_for_index
    from search.models import ProductEmbedding

    stored = list(
        ProductEmbedding.objects.filter(index=run.index, embedding__isnull=False)
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
        encoded = encode_documents(embedder_for_index(run.index), documents)
        vectors += [encoded.vectors[d.product_id] for d in documents]
        groups += [r["articleType"].lower() for r in rows]
        run.base_encode = {"documents": len(rows), "seconds": time.perf_counter() - t}
        log(f"encoded {len(rows):,} more real fashion documents as bases "
            f"({run.base_encode['seconds']:.0f} s)")  # fmt: skip
    return np.asarray(vectors, dtype=np.float32), groups


def grow_catalog(
    run: Run, target: int, base: tuple[np.ndarray, list[str]], *, build: bool = True
) -> dict:
    """Add synthetic products (COPY) with synthetic vectors (binary COPY) until the
    catalog has `target` products, refresh their keyword documents, rebuild the HNSW
    index. Returns the timings."""
    from django.db import connection

    from catalog.models import Product
    from catalog.services import category_for_path
    from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical

    existing = Product.objects.count()
    start_k = Product.objects.filter(sku__startswith=SYNTH_PREFIX).count()
    n = target - existing
    if n <= 0:
        return {}
    rows = fashion_rows()
    chosen = [rows[(start_k + k) % len(rows)] for k in range(n)]
    paths = {"/".join([r["masterCategory"], r["subCategory"], r["articleType"]]) for r in chosen}
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
        sigma=run.args.sigma,
        seed=start_k,
    )
    timings["generate_vectors_s"] = time.perf_counter() - t

    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {run.index.ann_index_name}")
        with cursor.cursor.copy(
            "COPY search_productembedding (index_id, product_id, embedding, document_hash,"
            " index_error, embedded_at) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.write(COPY_HEADER)
            step = 20_000
            for s in range(0, n, step):
                ids_, vecs_ = new_ids[s : s + step], vectors[s : s + step]
                copy.write(halfvec_copy_rows(run.index.pk, ids_, vecs_))
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
        timings.update(build_hnsw(run))
    return {k: rnd(v, 1) for k, v in timings.items()}


def build_hnsw(run: Run, params: tuple[int, int] | None = None) -> dict:
    """(Re)build the active index's HNSW index: the shipped create_ann_index, or with
    these (m, ef_construction). Returns build seconds and sizes."""
    from django.db import connection

    from search.indexing.indexes import create_ann_index

    name = run.index.ann_index_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")
        # What docs/DEPLOY.md gives the production database (PG_MAINTENANCE_WORK_MEM);
        # the embedded server's default (64 MB) would spill the graph at 100k.
        cursor.execute(f"SET maintenance_work_mem = '{run.args.maintenance_work_mem}'")
        t = time.perf_counter()
        if params is None:
            create_ann_index(run.index)
        else:
            dims, pk = int(run.index.dims), int(run.index.pk)
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


def upsert_cost(run: Run, batches: int = 16) -> float:
    """p50 ms of the embed task's vector write (search.indexing.embedding._embed_into's bulk upsert
    of 64 rows) into the full-size graph: 16 batches of synthetic products, each vector
    nudged so that every row is a real update (a new heap tuple and graph insert)."""
    from search.models import ProductEmbedding

    rows = list(
        ProductEmbedding.objects.filter(
            index=run.index, product__sku__startswith=SYNTH_PREFIX
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


def n_products(run: Run) -> int:
    from catalog.models import Product

    return Product.objects.filter(active=True).count()
