"""Sending products to the embed workers: the one way anything (catalog announcements, the
sweeper, `reindex`) asks for products to be embedded.

The task is sent by name (search.tasks defines it; its queue is in the settings), so nothing
below the tasks module needs to import it. Where the task is registered in this process
(search.apps loads search.tasks), Celery's own path runs it, eagerly when tasks are eager."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

EMBED_TASK = "search.tasks.embed_products"


# Fibonacci hashing's multiplier (2**64 / golden ratio): odd, so multiplying by it modulo 2**64
# is a bijection, and consecutive ids land far apart.
_MIX = 0x9E3779B97F4A7C15


def graph_order(product_ids: Iterable[int]) -> list[int]:
    """These products in the order their vectors should reach an HNSW graph: a fixed shuffle
    (a hash of the id), not id order. pgvector links each vector as it arrives, and a part
    of the catalog that arrives before a much larger, denser part loses the links into it:
    at 100k products (the ESCI products inserted before 92k fashion ones) the graph walk
    never reached them for a quarter of the ESCI dev queries (vector-leg recall@200 0.70-0.76
    against exact search, 0 for some queries; ef_search 1000 or m 32 only got to 0.86 / 0.81),
    where the same vectors in this order gave 0.953 (docs/BENCHMARKS.md, "Relevance at scale").
    A whole index's vectors (a reindex, the sweeper's catch-up) therefore arrive mixed."""
    return sorted(set(product_ids), key=lambda pid: ((pid * _MIX) % 2**64, pid))


def enqueue_embedding(product_ids: Iterable[int], *, index_id: int | None = None) -> None:
    """Send embed tasks in chunks of VITRINE_EMBED_TASK_SIZE (to every maintained index, or
    only `index_id`), in `graph_order`. A broker outage must not fail the catalog write that
    triggered it: log and leave the products for the sweeper / `reindex`."""
    ids = graph_order(product_ids)
    size = settings.VITRINE_EMBED_TASK_SIZE
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            current_app.signature(EMBED_TASK, args=(chunk, index_id)).apply_async()
        except Exception:
            logger.warning(
                "could not enqueue embedding of %d products; the sweeper will",
                len(chunk),
                exc_info=True,
            )
            return
