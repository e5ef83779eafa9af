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


def enqueue_embedding(product_ids: Iterable[int], *, index_id: int | None = None) -> None:
    """Send embed tasks in chunks of VITRINE_EMBED_TASK_SIZE (to every maintained index, or
    only `index_id`). A broker outage must not fail the catalog write that triggered it: log
    and leave the products for the sweeper / `reindex`."""
    ids = sorted(set(product_ids))
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
