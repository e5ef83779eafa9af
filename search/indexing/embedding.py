"""Turning products into vectors: which products are stale, how each batch is encoded (a
poison document is flagged, not fatal to its batch) and the upsert. Called by the embed task
and by `reindex`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from catalog.models import Product
from catalog.selectors import products_for_documents
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
    works even when a model cannot load."""
    refresh_lexical(product_ids=product_ids)
    documents = [build_document(p) for p in products_for_documents(ids=product_ids)]
    report = EmbedReport(missing=len(set(product_ids)) - len(documents))
    if not documents:  # all deleted since the task was queued: no model, no first index
        return report
    if index_id is not None:
        indexes = list(SearchIndex.objects.filter(pk=index_id))  # pruned meanwhile: nothing
    else:
        indexes = maintained_indexes() or [ensure_index_for(get_embedder())]
    for index in indexes:
        _embed_into(index, documents, report)
    return report


def _embed_into(index: SearchIndex, documents: list[ProductDocument], report: EmbedReport) -> None:
    embedder = embedder_for_index(index)
    current = stored_hashes(index, [d.product_id for d in documents])
    stale = [d for d in documents if current.get(d.product_id) != d.document_hash]
    report.unchanged += len(documents) - len(stale)
    if not stale:
        return

    batch = _encode_tolerantly(embedder, stale)
    rows = [
        ProductEmbedding(
            index=index,
            product_id=doc.product_id,
            embedding=batch.vectors.get(doc.product_id),
            document_hash=doc.document_hash,
            index_error=batch.errors.get(doc.product_id, ""),
        )
        for doc in stale
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
    report.embedded += sum(1 for r in rows if r.embedding is not None)
    report.flagged += sum(1 for r in rows if r.index_error)


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
