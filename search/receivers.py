"""The search index listens to the catalog. Receivers only enqueue; the sweeper is the
safety net for anything missed (broker down, worker killed)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Product, ProductImage
from catalog.signals import products_changed
from search.indexing.queue import enqueue_embedding


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
