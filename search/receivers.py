"""The search index listens to the catalog. Receivers only enqueue; the sweeper is the
safety net for anything missed (broker down, worker killed)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Product, ProductImage
from catalog.signals import products_changed

logger = logging.getLogger(__name__)


def enqueue_embedding(product_ids: Iterable[int], *, index_id: int | None = None) -> None:
    """Send embed tasks in chunks (to every maintained index, or only `index_id`). A broker
    outage must not fail the catalog write that triggered it: log and leave the product for
    the sweeper / `reindex`."""
    from search.tasks import embed_products

    ids = sorted(set(product_ids))
    size = settings.VITRINE_EMBED_TASK_SIZE
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            embed_products.delay(chunk, index_id)
        except Exception:
            logger.warning(
                "could not enqueue embedding of %d products; the sweeper will",
                len(chunk),
                exc_info=True,
            )
            return


def _flush_pending() -> None:
    connection = transaction.get_connection()
    enqueue_embedding(connection.__dict__.pop("_vitrine_pending_embeds", set()))


def schedule_embedding(product_ids: Iterable[int]) -> None:
    """Enqueue embedding once the surrounding transaction commits, coalescing every product
    saved in that transaction into the same batched tasks (a 300-product load makes a few
    tasks of VITRINE_EMBED_TASK_SIZE, not one per save). Outside a transaction: at once."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        enqueue_embedding(product_ids)
        return
    pending: set[int] = connection.__dict__.setdefault("_vitrine_pending_embeds", set())
    # A rolled-back (savepoint) block drops its on_commit callbacks; start a new batch then.
    if not any(entry[1] is _flush_pending for entry in connection.run_on_commit):
        pending.clear()
        transaction.on_commit(_flush_pending)
    pending.update(product_ids)


@receiver(products_changed)
def on_products_changed(sender, product_ids: list[int], **kwargs) -> None:
    enqueue_embedding(product_ids)  # catalog already waited for the commit


@receiver(post_save, sender=Product)
def on_product_saved(sender, instance: Product, raw: bool = False, **kwargs) -> None:
    if not raw:  # fixtures loading
        schedule_embedding([instance.pk])


@receiver(post_save, sender=ProductImage)
@receiver(post_delete, sender=ProductImage)
def on_photo_changed(sender, instance: ProductImage, raw: bool = False, **kwargs) -> None:
    if not raw:
        schedule_embedding([instance.product_id])
