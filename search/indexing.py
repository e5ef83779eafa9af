"""Turning products into vectors: which index, which products are stale, how each model
reads a document, and the upsert. Called by the embed task and by `reindex`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from catalog.models import Product
from catalog.selectors import products_for_documents
from search.documents import ProductDocument, build_document
from search.inference.encoding import EncodedBatch, encode_documents
from search.inference.loading import Embedder, embedder_for_index, get_embedder
from search.models import ProductEmbedding, SearchIndex

logger = logging.getLogger(__name__)

# --- Indexes ---------------------------------------------------------------------------------


def active_index() -> SearchIndex | None:
    return SearchIndex.objects.filter(active=True).first()


_remembered_active: tuple[float, SearchIndex] | None = None  # (when read, the index)


def active_index_for_search() -> SearchIndex | None:
    """The active index as searches see it: read from the database at most every
    SEARCH_ACTIVE_INDEX_TTL_S seconds per process (the read was ~0.7 ms of a ~25 ms search).

    An activation elsewhere reaches this process within that time; until then its searches
    go to the index just retired, which is kept (and still answers) until someone prunes it.
    "No index yet" is never remembered, so a new shop's first index answers at once."""
    global _remembered_active
    ttl = settings.SEARCH_ACTIVE_INDEX_TTL_S
    remembered = _remembered_active
    if remembered is not None and time.monotonic() - remembered[0] < ttl:
        return remembered[1]
    index = active_index()
    _remembered_active = (time.monotonic(), index) if index is not None and ttl > 0 else None
    return index


def forget_active_index() -> None:
    """Make this process's next search read the active index again (after a switch here)."""
    global _remembered_active
    _remembered_active = None


def maintained_indexes() -> list[SearchIndex]:
    """The indexes that product changes must reach: the active one and any being built."""
    return list(
        SearchIndex.objects.filter(Q(active=True) | Q(state=SearchIndex.State.BUILDING)).order_by(
            "pk"
        )
    )


def index_for_model(model_id: str, revision: str | None) -> SearchIndex | None:
    """The newest index made by this model, if a worker has created it (no model load)."""
    return (
        SearchIndex.objects.filter(embedder=model_id, revision=revision or "")
        .order_by("-created_at")
        .first()
    )


# HNSW graph parameters (pgvector's defaults are m 16, ef_construction 64). Chosen from the
# recall curves in docs/BENCHMARKS.md (Performance): at 100k products this graph gains 0.05 to
# 0.15 recall@10 at every ef_search (0.86 vs 0.78 at ef_search 100, 0.97 vs 0.92 at 400); the
# price is ~2.3x the build time and the per-vector insert cost, at the same index size
# (halfvec data dominates). Existing indexes keep their parameters until rebuilt
# (`REINDEX INDEX search_emb_hnsw_<id>`).
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128


def create_ann_index(index: SearchIndex) -> None:
    """A partial HNSW index for this SearchIndex's vectors at its own width."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index.ann_index_name} ON search_productembedding "
            f"USING hnsw ((embedding::halfvec({int(index.dims)})) halfvec_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE index_id = {int(index.pk)}"
        )


@transaction.atomic
def ensure_index_for(embedder: Embedder) -> SearchIndex:
    """The index for this model, created (with its ANN index) on first use, in state
    "building". The very first index of a shop becomes active at once; any later one is
    built beside the active one and waits for `activate_index`. A retired index asked for
    again goes back to building, so product changes reach it while it catches up."""
    index, created = SearchIndex.objects.get_or_create(
        embedder=embedder.model_id,
        revision=embedder.revision or "",
        dims=embedder.dims,
        defaults={"modalities": embedder.modalities},
    )
    if created:
        create_ann_index(index)
    if not SearchIndex.objects.select_for_update().filter(active=True).exists():
        index.active = True
        index.state = SearchIndex.State.READY
        index.save(update_fields=["active", "state"])
    elif index.state == SearchIndex.State.RETIRED:
        index.state = SearchIndex.State.BUILDING
        index.save(update_fields=["state"])
    return index


def prepare_index(*, model_id: str, revision: str | None) -> SearchIndex:
    """Load a model and make (or reopen) its index for a build beside the active one."""
    return ensure_index_for(get_embedder(model_id, revision))


@transaction.atomic
def activate_index(index: SearchIndex) -> SearchIndex | None:
    """Make this index the one that answers searches, in one atomic flip. The previous
    active index is retired (kept for rollback, no longer maintained). Returns it."""
    current = SearchIndex.objects.select_for_update().filter(active=True).first()
    if current and current.pk == index.pk:
        return None
    if current:
        current.active = False
        current.state = SearchIndex.State.RETIRED
        current.save(update_fields=["active", "state"])
    index.active = True
    index.state = SearchIndex.State.READY
    index.save(update_fields=["active", "state"])
    transaction.on_commit(forget_active_index)
    return current


def prune_index(index: SearchIndex) -> None:
    """Delete a retired index and its vectors (its partial HNSW index goes with them)."""
    if index.active or index.state != SearchIndex.State.RETIRED:
        raise ValueError("only a retired index can be pruned")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {index.ann_index_name}")
        index.delete()
    forget_active_index()


# --- Lexical documents -----------------------------------------------------------------------

_REFRESH_LEXICAL_SQL = """
INSERT INTO search_lexicaldocument (product_id, document, keywords, updated_at)
SELECT p.id,
       setweight(to_tsvector('english', p.name), 'A')
    || setweight(to_tsvector('simple', p.sku), 'A')
    || setweight(to_tsvector('english', p.brand || ' '
                 || translate(coalesce(c.path, ''), '/-', '  ')), 'B')
    || setweight(jsonb_to_tsvector('english', p.attributes, '["string", "numeric"]'), 'C')
    || setweight(to_tsvector('english', left(p.description, %(max_chars)s)), 'D'),
       lower(p.name || ' ' || p.brand || ' ' || p.sku),
       now()
FROM catalog_product p
LEFT JOIN catalog_category c ON c.id = p.category_id
WHERE p.id = ANY(%(ids)s)
ON CONFLICT (product_id) DO UPDATE
SET document = EXCLUDED.document, keywords = EXCLUDED.keywords, updated_at = EXCLUDED.updated_at
"""

# Words shoppers may misspell: letters-only words of names and brands, 3 to 40 characters.
_REFRESH_VOCABULARY_SQL = """
INSERT INTO search_vocabularyword (word)
SELECT DISTINCT w
FROM search_lexicaldocument l,
     regexp_split_to_table(l.keywords, '[^[:alpha:]]+') AS w
WHERE l.product_id = ANY(%(ids)s) AND length(w) BETWEEN 3 AND 40
ON CONFLICT (word) DO NOTHING
"""


def refresh_lexical(*, product_ids: Sequence[int]) -> None:
    """Rebuild the keyword-search rows of these products in one statement (cheap; no model)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _REFRESH_LEXICAL_SQL,
            {"ids": list(product_ids), "max_chars": settings.VITRINE_DOCUMENT_MAX_CHARS * 4},
        )
        cursor.execute(_REFRESH_VOCABULARY_SQL, {"ids": list(product_ids)})


def refresh_lexeme_stats() -> int:
    """Recount in how many keyword documents each word occurs (one scan of the documents;
    run by reindex and by the periodic sweeper, not per product). Returns the word count."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_lexemestat")
        cursor.execute(
            "INSERT INTO search_lexemestat (lexeme, ndoc)"
            " SELECT word, ndoc FROM ts_stat('SELECT document FROM search_lexicaldocument')"
        )
        words = cursor.rowcount
        cursor.execute(
            "INSERT INTO search_lexemestat (lexeme, ndoc)"
            " SELECT '', count(*) FROM search_lexicaldocument"
        )
    return words


def refresh_all_lexical(*, chunk_size: int = 5000) -> int:
    """Rebuild every product's keyword document; returns how many."""
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), chunk_size):
        refresh_lexical(product_ids=ids[start : start + chunk_size])
    refresh_lexeme_stats()
    return len(ids)


# --- Embedding products ----------------------------------------------------------------------


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


def index_status(index: SearchIndex | None) -> dict[str, int]:
    """Cheap counts for healthz/admin: a product is pending when it has no embedding in the
    index or was updated after its embedding (the sweeper and reindex compare exact hashes)."""
    products = Product.objects.filter(active=True)
    total = products.count()
    if index is None:
        return {"products": total, "indexed": 0, "pending": total, "failed": 0}
    rows = ProductEmbedding.objects.filter(index=index, product__active=True)
    fresh = rows.filter(embedded_at__gte=F("product__updated_at"))
    indexed = fresh.filter(embedding__isnull=False).count()
    failed = rows.filter(embedding__isnull=True).count()
    return {
        "products": total,
        "indexed": indexed,
        "pending": max(total - indexed - failed, 0),
        "failed": failed,
    }
