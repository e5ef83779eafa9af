"""The safety net: nothing the queue misses is lost.

The catalog announces changes and the receivers enqueue embedding tasks, but a message can be
lost on the way (Redis down while a product was saved, a worker killed with its task unacked,
a task that failed for good). Every `VITRINE_SWEEP_INTERVAL_S` Celery beat runs
`sweep_stale_products`, which compares each active product's current document hash with the
hash stored beside its vector, in every maintained index (the active one and any being
built), and enqueues the products that are missing or stale there.

A task that exhausts its retries marks its products here (`record_failed_task`): the row keeps
its old vector (search keeps serving it), says why in `index_error` and loses its hash, so the
sweeper sees it as stale and tries again once the cooldown has passed. `failed_task_count`
is what /healthz and the admin show.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from catalog.models import Product
from search.indexing.embedding import expected_hashes, stale_products
from search.indexing.indexes import maintained_indexes
from search.indexing.queue import enqueue_embedding
from search.models import ProductEmbedding, SearchIndex

logger = logging.getLogger(__name__)

TASK_FAILED_PREFIX = "embedding task failed: "
_COOLDOWN_KEY = "search:sweep:{index}:{product}:{hash}"
_CACHE_CHUNK = 1000


def sweep_stale_products(*, batch_size: int) -> int:
    """Enqueue, in tasks of `batch_size` products, every active product whose vector is
    missing or was made from another document, in each maintained index (or, before any
    index exists, every product: the first task creates the index). Products this sweeper
    enqueued within `VITRINE_SWEEP_COOLDOWN_S` for the same document are skipped. Returns
    how many distinct products were enqueued."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    expected = expected_hashes()
    if not expected:
        return 0
    indexes = maintained_indexes()
    if indexes:
        targets: list[tuple[int | None, list[int]]] = [
            (index.pk, stale_products(index, expected)) for index in indexes
        ]
    else:
        targets = [(None, sorted(expected))]

    enqueued: set[int] = set()
    for index_id, stale in targets:
        todo = _not_recently_swept(index_id, stale, expected)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            enqueue_embedding(chunk, index_id=index_id)
            _mark_swept(index_id, chunk, expected)
        enqueued.update(todo)
        if stale:
            logger.info(
                "sweeper: %d stale in index %s, %d enqueued (the rest within the cooldown)",
                len(stale),
                index_id,
                len(todo),
            )
    return len(enqueued)


def _cooldown_key(index_id: int | None, product_id: int, document_hash: str) -> str:
    return _COOLDOWN_KEY.format(index=index_id, product=product_id, hash=document_hash[:16])


def _not_recently_swept(
    index_id: int | None, product_ids: Sequence[int], expected: dict[int, str]
) -> list[int]:
    if settings.VITRINE_SWEEP_COOLDOWN_S <= 0 or not product_ids:
        return list(product_ids)
    keep = []
    for start in range(0, len(product_ids), _CACHE_CHUNK):
        chunk = product_ids[start : start + _CACHE_CHUNK]
        keys = {_cooldown_key(index_id, pid, expected[pid]): pid for pid in chunk}
        recent = cache.get_many(list(keys))
        keep += [pid for key, pid in keys.items() if key not in recent]
    return keep


def _mark_swept(index_id: int | None, product_ids: Iterable[int], expected: dict[int, str]):
    if settings.VITRINE_SWEEP_COOLDOWN_S > 0:
        cache.set_many(
            {_cooldown_key(index_id, pid, expected[pid]): 1 for pid in product_ids},
            settings.VITRINE_SWEEP_COOLDOWN_S,
        )


# --- Failed tasks ----------------------------------------------------------------------------


def record_failed_task(*, product_ids: Sequence[int], index_id: int | None, error: str) -> int:
    """Mark the products of an embedding task that gave up: in its index (or every
    maintained index), each existing row keeps its vector but gets the error and an empty
    hash (so it is stale and swept again later); a product without a row gets one without a
    vector. Returns how many rows were marked."""
    message = f"{TASK_FAILED_PREFIX}{error}"[:500]
    if index_id is not None:
        index_ids = list(SearchIndex.objects.filter(pk=index_id).values_list("pk", flat=True))
    else:
        index_ids = [index.pk for index in maintained_indexes()]
    alive = list(Product.objects.filter(id__in=list(product_ids)).values_list("id", flat=True))
    if not index_ids or not alive:
        return 0
    with transaction.atomic():
        for pk in index_ids:
            rows = ProductEmbedding.objects.filter(index_id=pk, product_id__in=alive)
            existing = set(rows.values_list("product_id", flat=True))
            rows.update(index_error=message, document_hash="")
            # ignore_conflicts: a row that a concurrent task wrote meanwhile is left as it is.
            ProductEmbedding.objects.bulk_create(
                [
                    ProductEmbedding(
                        index_id=pk, product_id=pid, embedding=None, index_error=message
                    )
                    for pid in alive
                    if pid not in existing
                ],
                ignore_conflicts=True,
            )
    marked = len(alive) * len(index_ids)
    logger.warning("marked %d products as failed in indexes %s: %s", len(alive), index_ids, error)
    return marked


def failed_task_count() -> int:
    """Products whose last embedding task gave up, in any maintained index."""
    maintained = Q(index__active=True) | Q(index__state=SearchIndex.State.BUILDING)
    return (
        ProductEmbedding.objects.filter(maintained, index_error__startswith=TASK_FAILED_PREFIX)
        .values("product_id")
        .distinct()
        .count()
    )
