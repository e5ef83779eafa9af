"""Writing a bench catalog's vectors fast: pgvector's binary COPY rows, the HNSW graph
(re)built after a bulk load, the embed task's upsert timed into that graph, and the size."""

from __future__ import annotations

import time

import numpy as np

from suite.common import p50, rnd
from suite.state import Run

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no extension
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
COPY_EMBEDDINGS = (
    "COPY search_productembedding (index_id, product_id, embedding, document_hash,"
    " index_error, embedded_at) FROM STDIN WITH (FORMAT BINARY)"
)


def halfvec_copy_rows(
    index_id: int,
    product_ids: np.ndarray,
    vectors: np.ndarray,
    hashes: list[str] | None = None,
) -> bytes:
    """Rows of a binary COPY stream for search_productembedding (index_id, product_id,
    embedding, document_hash, index_error, embedded_at), built with numpy in one go:
    pgvector's binary halfvec is int16 dims, int16 unused, then big-endian float16s.
    `hashes`: each row's document hash (what the indexer stores, so a sweep finds the
    vector current); none: a fixed marker. The stream is COPY_HEADER, rows, COPY_TRAILER."""
    n, dims = vectors.shape
    now_us = int((time.time() - 946684800) * 1_000_000)  # PostgreSQL epoch 2000-01-01
    encoded = [h.encode() for h in hashes] if hashes is not None else [b"synthetic"] * n
    width = max(len(h) for h in encoded) if encoded else 1
    if any(len(h) != width for h in encoded):
        raise ValueError("document hashes of one COPY batch must have one length")
    row = np.dtype([
        ("nfields", ">i2"),
        ("l_index", ">i4"), ("index_id", ">i8"),
        ("l_product", ">i4"), ("product_id", ">i8"),
        ("l_embedding", ">i4"), ("dims", ">i2"), ("unused", ">i2"), ("vec", ">f2", (dims,)),
        ("l_hash", ">i4"), ("hash", f"S{width}"),
        ("l_error", ">i4"),
        ("l_time", ">i4"), ("time", ">i8"),
    ])  # fmt: skip
    rows = np.zeros(n, dtype=row)
    rows["nfields"] = 6
    rows["l_index"], rows["index_id"] = 8, index_id
    rows["l_product"], rows["product_id"] = 8, product_ids
    rows["l_embedding"], rows["dims"] = 4 + 2 * dims, dims
    rows["vec"] = vectors.astype(np.float16)
    rows["l_hash"], rows["hash"] = width, encoded
    rows["l_error"] = 0
    rows["l_time"], rows["time"] = 8, now_us
    return rows.tobytes()


def copy_vectors(
    index_id: int, product_ids: list[int], vectors: np.ndarray, hashes: list[str]
) -> None:
    """These products' vectors into the index's table, one binary COPY."""
    from django.db import connection

    rows = halfvec_copy_rows(index_id, np.asarray(product_ids, dtype=np.int64), vectors, hashes)
    with connection.cursor() as cursor, cursor.cursor.copy(COPY_EMBEDDINGS) as copy:
        copy.write(COPY_HEADER + rows + COPY_TRAILER)


def drop_hnsw(run: Run) -> None:
    """Bulk loads go in without the graph (pgvector's advice); build_hnsw makes it after."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {run.index.ann_index_name}")


def build_hnsw(run: Run, params: tuple[int, int] | None = None) -> dict:
    """(Re)build the active index's HNSW index: the shipped create_ann_index, or with
    these (m, ef_construction). Returns build seconds and sizes."""
    from django.db import connection

    from search.indexing.indexes import create_ann_index

    name = run.index.ann_index_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")
        in_graph_order(run, cursor)
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
        # (the visibility map lets the keyword leg read its impact lists from the index alone)
        tables = ("catalog_product", "search_productembedding", "search_lexicaldocument")
        for table in (*tables, "search_lexicalimpact"):
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


def in_graph_order(run: Run, cursor) -> None:
    """Rewrite the index's rows in search.indexing.queue.graph_order, the order a `reindex`
    sends a whole catalog's vectors in: a graph build reads the table in its physical order,
    and the bench writes its vectors ESCI products first, which would make the graph of a
    catalog that grew in two parts (docs/BENCHMARKS.md, "Relevance at scale")."""
    from django.db import transaction

    from search.indexing.queue import graph_order

    pk = int(run.index.pk)
    cursor.execute("SELECT product_id FROM search_productembedding WHERE index_id = %s", [pk])
    order = graph_order(row[0] for row in cursor.fetchall())
    with transaction.atomic():
        _rewrite(cursor, pk, order)
    # The deleted copies would stay in the table as dead rows, and a full scan (the exact
    # search the ANN is measured against) would read twice the pages. VACUUM FULL writes
    # the live rows out again in their order.
    cursor.execute("VACUUM FULL search_productembedding")


def _rewrite(cursor, pk: int, order: list[int]) -> None:
    cursor.execute(
        "CREATE TEMP TABLE bench_rows ON COMMIT DROP AS"
        " SELECT * FROM search_productembedding WHERE index_id = %s",
        [pk],
    )
    cursor.execute("DELETE FROM search_productembedding WHERE index_id = %s", [pk])
    cursor.execute(
        "INSERT INTO search_productembedding SELECT k.* FROM bench_rows k"
        " JOIN unnest(%s::int[]) WITH ORDINALITY AS o(pid, n) ON o.pid = k.product_id"
        " ORDER BY o.n",
        [order],
    )


def upsert_cost(run: Run, *, batches: int = 16) -> float:
    """p50 ms of the embed task's vector write (search.indexing.embedding's bulk upsert of
    64 rows) into the current graph: `batches` batches of the latest products, each vector
    nudged so that every row is a real update (a new heap tuple and graph insert); the
    products' own vectors are written back afterwards, untimed."""
    from search.models import ProductEmbedding

    rows = list(
        ProductEmbedding.objects.filter(index=run.index).order_by("-product_id")[: 64 * batches]
    )
    rng = np.random.default_rng(7)
    times = []
    for start in range(0, len(rows), 64):
        batch = rows[start : start + 64]
        originals = [row.embedding for row in batch]
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
        for row, original in zip(batch, originals, strict=True):
            row.embedding = original
        ProductEmbedding.objects.bulk_update(batch, ["embedding"])
    return rnd(p50(times), 1)


def n_products(run: Run) -> int:
    from catalog.models import Product

    return Product.objects.filter(active=True).count()
