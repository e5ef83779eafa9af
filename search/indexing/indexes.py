"""The search indexes' lifecycle: which one answers searches, which ones product changes must
reach, creating one (with its HNSW index) for a model, the atomic switch, pruning, and the
counts /healthz and the admin show (`reindex --embedder` drives a switch without downtime)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from psycopg import sql

from catalog.models import Product
from search.inference.loading import Embedder, get_embedder
from search.models import ProductEmbedding, SearchIndex


def active_index() -> SearchIndex | None:
    return SearchIndex.objects.filter(active=True).first()


_remembered_active: tuple[float, SearchIndex] | None = None  # (when read, the index)
# An index this thread's searches read instead of the active one (`searching_index`).
_searched_instead: ContextVar[SearchIndex | None] = ContextVar("searched_instead", default=None)


@contextmanager
def searching_index(index: SearchIndex) -> Iterator[None]:
    """Make this thread's searches read `index` instead of the active one, for the block:
    an index built beside the active one is measured (`evaluate_search --index`) before
    anyone activates it, and no shopper's search sees it."""
    token = _searched_instead.set(index)
    try:
        yield
    finally:
        _searched_instead.reset(token)


def active_index_for_search() -> SearchIndex | None:
    """The active index as searches see it: read from the database at most every
    SEARCH_ACTIVE_INDEX_TTL_S seconds per process (the read was ~0.7 ms of a ~25 ms search).

    An activation elsewhere reaches this process within that time; until then its searches
    go to the index just retired, which is kept (and still answers) until someone prunes it.
    "No index yet" is never remembered, so a new shop's first index answers at once."""
    global _remembered_active
    if (instead := _searched_instead.get()) is not None:
        return instead
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
# (`REINDEX INDEX search_emb_hnsw_<id>`). The order vectors reach a graph matters as much: a
# rebuild reads them in the table's physical order (search.indexing.queue.graph_order).
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128


def create_ann_index(index: SearchIndex) -> None:
    """A partial HNSW index for this SearchIndex's vectors at its own width."""
    # DDL takes no parameters: the width, graph settings and index id are literals, and
    # the partial index's predicate must be one the vector leg's queries match.
    statement = sql.SQL(
        "CREATE INDEX IF NOT EXISTS {name} ON search_productembedding "
        "USING hnsw ((embedding::halfvec({dims})) halfvec_cosine_ops) "
        "WITH (m = {m}, ef_construction = {ef_construction}) "
        "WHERE index_id = {index_id}"
    ).format(
        name=sql.Identifier(index.ann_index_name),
        dims=sql.Literal(int(index.dims)),
        m=sql.Literal(HNSW_M),
        ef_construction=sql.Literal(HNSW_EF_CONSTRUCTION),
        index_id=sql.Literal(int(index.pk)),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement)


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
            cursor.execute(
                sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index.ann_index_name))
            )
        index.delete()
    forget_active_index()


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
