"""Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings

from search import indexing
from search.inference import get_embedder

logger = logging.getLogger(__name__)


@worker_process_init.connect
def load_models_after_fork(**_kwargs) -> None:
    """Load the embedder in each worker process after fork (CUDA cannot survive a fork),
    so the first task does not pay for it. Only workers that embed need it."""
    if settings.VITRINE_WORKER_PRELOAD_MODELS:
        try:
            get_embedder()
        except Exception:  # the first task will retry and report it; the worker stays up
            logger.exception("could not preload the embedder")


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def embed_products(product_ids: list[int], index_id: int | None = None) -> dict[str, int]:
    report = indexing.embed_products(product_ids=product_ids, index_id=index_id)
    logger.info("embedded %s", report)
    return report.__dict__


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=3)
def prepare_index(model_id: str, revision: str | None = None) -> int:
    """Load a model on a GPU worker and open its index for a build (see `reindex --embedder`)."""
    return indexing.prepare_index(model_id=model_id, revision=revision).pk
