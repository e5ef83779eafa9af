"""Turning products into vectors: which products are stale, how each batch is encoded (a
poison document is flagged, not fatal to its batch) and the upsert. Called by the embed task
and by `reindex`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from catalog.models import Product
from catalog.selectors import products_for_documents
from search.connection_threads import ConnectionThreads
from search.documents import ProductDocument, build_document
from search.indexing.indexes import ensure_index_for, maintained_indexes
from search.indexing.lexical import refresh_lexical
from search.inference.encoding import EncodedBatch, encode_documents
from search.inference.loading import Embedder, embedder_for_index, get_embedder
from search.models import ProductEmbedding, SearchIndex

logger = logging.getLogger(__name__)


@dataclass
class EmbedReport:
    embedded: int = 0
    unchanged: int = 0
    flagged: int = 0
    missing: int = 0


def stored_hashes(index: SearchIndex | None, product_ids: Iterable[int]) -> dict[int, str]:
    if index is None:
        return {}
    return dict(
        ProductEmbedding.objects.filter(index=index, product_id__in=list(product_ids)).values_list(
            "product_id", "document_hash"
        )
    )


def embed_products(*, product_ids: Sequence[int], index_id: int | None = None) -> EmbedReport:
    """Embed these products into one index (`index_id`) or every maintained index (the
    active one and any being built; a fresh shop's first index is made for the configured
    model), skipping products whose stored document hash is current. Safe to run twice
    (upsert by index+product). Keyword documents are refreshed first, so keyword search
    works even when a model cannot load.

    The database work runs behind the encoding (`_Writes`): the keyword documents while
    the first chunk encodes, each chunk's vectors while the next one encodes. It returns
    only when every write is done, so a task acknowledged is a task stored, and one that
    fails anywhere is retried whole."""
    writes = _Writes()
    report = EmbedReport()
    try:
        writes.run(refresh_lexical, product_ids=product_ids)
        documents = [build_document(p) for p in products_for_documents(ids=product_ids)]
        report.missing = len(set(product_ids)) - len(documents)
        if documents:  # all deleted since the task was queued: no model, no first index
            if index_id is not None:
                indexes = list(SearchIndex.objects.filter(pk=index_id))  # pruned: nothing
            else:
                indexes = maintained_indexes() or [ensure_index_for(get_embedder())]
            for index in indexes:
                _embed_into(index, documents, report, writes)
    except BaseException:
        writes.wait(quietly=True)  # nothing left writing when the retry starts
        raise
    writes.wait()
    return report


def _embed_into(
    index: SearchIndex, documents: list[ProductDocument], report: EmbedReport, writes: _Writes
) -> None:
    embedder = embedder_for_index(index)
    current = stored_hashes(index, [d.product_id for d in documents])
    stale = [d for d in documents if current.get(d.product_id) != d.document_hash]
    report.unchanged += len(documents) - len(stale)
    # Chunks of like lengths, as sentence-transformers sorts one call's inputs: a chunk is
    # padded to its longest text, and mixed chunks encoded ~10% slower here.
    stale.sort(key=lambda d: len(d.text))
    for chunk in _chunks(stale, settings.VITRINE_EMBED_BATCH_SIZE):
        batch = _encode_tolerantly(embedder, chunk)
        writes.run(_store_vectors, index=index, documents=chunk, batch=batch, report=report)


def _chunks(documents: list[ProductDocument], size: int) -> Iterator[list[ProductDocument]]:
    """Chunks of `size` to encode, the last one halved: its store is the one write left to
    wait for once the encoder is done (each other one runs while the next chunk encodes),
    and on a CPU a chunk of 16 encodes as fast per document as one of 32."""
    start = 0
    while len(documents) - start > size:
        yield documents[start : start + size]
        start += size
    rest = documents[start:]
    half = (len(rest) + 1) // 2
    yield from (chunk for chunk in (rest[:half], rest[half:]) if chunk)


def _store_vectors(
    *,
    index: SearchIndex,
    documents: list[ProductDocument],
    batch: EncodedBatch,
    report: EmbedReport,
) -> None:
    rows = [
        ProductEmbedding(
            index=index,
            product_id=doc.product_id,
            embedding=batch.vectors.get(doc.product_id),
            document_hash=doc.document_hash,
            index_error=batch.errors.get(doc.product_id, ""),
        )
        for doc in documents
    ]
    # A product deleted while we encoded would break the FK: upsert only those still there.
    alive = set(
        Product.objects.filter(id__in=[r.product_id for r in rows]).values_list("id", flat=True)
    )
    rows = [r for r in rows if r.product_id in alive]
    ProductEmbedding.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["index", "product"],
        update_fields=["embedding", "document_hash", "index_error", "embedded_at"],
    )
    # Only this writer counts these two (the caller reads them after `_Writes.wait`).
    report.embedded += sum(1 for r in rows if r.embedding is not None)
    report.flagged += sum(1 for r in rows if r.index_error)


# One writer per process, in order: the writes of one task never race each other.
_writer = ConnectionThreads(1, "vitrine-embed-writes")


class _Writes:
    """An embedding task's database work, done on the writer thread while this one encodes:
    the upsert of 32 vectors into a 100k HNSW graph costs about a fifth of encoding them on
    a CPU (docs/BENCHMARKS.md, ingest), more beside a GPU. Inside a transaction the writes
    run in line: the caller's connection may hold rows no other connection sees yet (a
    test's transaction, a caller that embeds before it commits)."""

    def __init__(self) -> None:
        self.in_line = connection.in_atomic_block
        self.pending: list[Future] = []
        self.failed = False

    def run(self, work: Callable[..., None], **kwargs) -> None:
        """Start `work(**kwargs)`; a failure of an earlier write is raised here, so a task
        stops encoding once it cannot be stored."""
        if self.in_line:
            work(**kwargs)
            return
        for future in self.pending:
            if future.done():
                future.result()
        self.pending.append(_writer.submit(self._unless_failed, task=work, kwargs=kwargs))

    def _unless_failed(self, task: Callable[..., None], kwargs: dict) -> None:
        # On the writer, in order: after a failed write the task is retried whole, so the
        # writes queued behind it are skipped.
        if self.failed:
            return
        try:
            task(**kwargs)
        except BaseException:
            self.failed = True
            raise

    def wait(self, *, quietly: bool = False) -> None:
        """Block until every started write is done; raise the first one's error unless
        `quietly` (the caller is raising its own)."""
        pending, self.pending = self.pending, []
        futures.wait(pending)
        if not quietly:
            for future in pending:
                future.result()


def _encode_tolerantly(embedder: Embedder, documents: Sequence[ProductDocument]) -> EncodedBatch:
    """Encode the batch; if the model fails on it, retry one by one so a single poison
    document is flagged instead of failing its neighbours."""
    try:
        return encode_documents(embedder, documents)
    except Exception:
        if len(documents) == 1:
            raise
        logger.exception("batch of %d failed; retrying one by one", len(documents))
    out = EncodedBatch()
    for doc in documents:
        try:
            single = encode_documents(embedder, [doc])
        except Exception as exc:
            out.errors[doc.product_id] = f"could not be embedded: {exc.__class__.__name__}: {exc}"[
                :500
            ]
            continue
        out.vectors.update(single.vectors)
        out.errors.update(single.errors)
    return out


# --- What is stale ---------------------------------------------------------------------------


def expected_hashes(*, chunk_size: int = 500) -> dict[int, str]:
    """Current document hash of every active product (no model needed)."""
    hashes: dict[int, str] = {}
    ids = list(Product.objects.filter(active=True).order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), chunk_size):
        for product in products_for_documents(ids=ids[start : start + chunk_size]):
            hashes[product.id] = build_document(product).document_hash
    return hashes


def stale_products(index: SearchIndex | None, expected: dict[int, str]) -> list[int]:
    """Products whose stored embedding is missing or was made from another document."""
    stored = stored_hashes(index, expected.keys()) if index else {}
    return sorted(pid for pid, h in expected.items() if stored.get(pid) != h)
