"""Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings

from search.adaptation import services as adaptation
from search.indexing import embedding, indexes, lexical, suggestions, sweeper
from search.inference.backend import InProcessInference
from search.inference.loading import get_embedder
from search.inference.remote import photo_from_payload
from search.insights import clicks, draining, rollups
from search.models import SearchIndex
from search.parking.delivery import CountedTask

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
        # `make run` waits for this line before it says the shop is ready (config.stack):
        # Celery says "ready." before its pool processes have loaded anything.
        logger.info("pool process started (models loaded)")


class EmbedTask(CountedTask):
    """An embedding task that gave up (its retries spent) marks its products as failed, so
    /healthz and the admin show them and the sweeper tries them again later."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        product_ids = kwargs.get("product_ids", args[0] if args else [])
        index_id = kwargs.get("index_id", args[1] if len(args) > 1 else None)
        try:
            sweeper.record_failed_task(
                product_ids=product_ids,
                index_id=index_id,
                error=f"{exc.__class__.__name__}: {exc} (task {task_id})",
            )
        except Exception:  # the database may be what failed; the sweeper still finds them
            logger.exception("could not record the failure of task %s", task_id)
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(
    base=EmbedTask,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=settings.VITRINE_TASK_RETRY_BACKOFF_S,
    retry_backoff_max=settings.VITRINE_TASK_RETRY_BACKOFF_MAX_S,
    retry_jitter=True,
    max_retries=settings.VITRINE_TASK_MAX_RETRIES,
)
def embed_products(product_ids: list[int], index_id: int | None = None) -> dict[str, int]:
    report = embedding.embed_products(product_ids=product_ids, index_id=index_id)
    logger.info("embedded %s", report)
    return report.__dict__


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=3)
def prepare_index(model_id: str, revision: str | None = None) -> int:
    """Load a model on a GPU worker and open its index for a build (see `reindex --embedder`)."""
    return indexes.prepare_index(model_id=model_id, revision=revision).pk


@shared_task(acks_late=True)
def sweep_stale_products() -> int:
    """Celery beat's safety net: re-enqueue every product whose vector is missing or stale,
    and recount the keyword leg's word statistics (idf) for what changed since."""
    lexical.refresh_lexeme_stats()
    count = sweeper.sweep_stale_products(batch_size=settings.VITRINE_SWEEP_BATCH_SIZE)
    logger.info("sweeper enqueued %d products", count)
    return count


# --- Query-time inference on the GPU pool (VITRINE_REMOTE_INFERENCE) ---------------------------
# search.inference.remote sends these by name. No retries and no late acks: a shopper is
# waiting, and an answer after the deadline is worthless (the caller sets `expires`); nor a
# delivery count (search.parking): they are not re-delivered, and a query must not wait on it.


@shared_task(ignore_result=False, count_deliveries=False)
def encode_search_query(index_id: int, text: str, photo: str | None = None) -> list[float]:
    index = SearchIndex.objects.get(pk=index_id)
    vector = InProcessInference().encode_query(index, text=text, photo=photo_from_payload(photo))
    return vector.tolist()


@shared_task(ignore_result=False, count_deliveries=False)
def rerank_search_candidates(text: str, photo: str | None, product_ids: list[int]) -> dict:
    scores, notice = InProcessInference().rerank(
        text=text, photo=photo_from_payload(photo), product_ids=product_ids
    )
    return {"scores": {str(pid): score for pid, score in scores.items()}, "notice": notice}


# --- Search insights (search.insights): beat runs these; each is a plain service call ---------


@shared_task
def drain_search_events() -> dict[str, int]:
    """Write the buffered search and result events to the database, in batches."""
    return draining.drain_search_events().__dict__


@shared_task
def roll_up_search_insights() -> None:
    """Recompute today's and yesterday's daily rollups from the raw events."""
    rollups.roll_up_recent()


@shared_task
def purge_search_events() -> dict[str, int]:
    """Delete raw events older than VITRINE_ANALYTICS_RETENTION_DAYS, rolled up first."""
    report = rollups.purge_old_events(retention_days=settings.VITRINE_ANALYTICS_RETENTION_DAYS)
    logger.info("search insights purge: %s", report)
    return report.__dict__


@shared_task
def refresh_click_signal() -> dict[str, object]:
    """New clicks into the click signal (search.insights.clicks)."""
    return clicks.refresh_click_signal().__dict__


# --- Search-as-you-type (search.suggest) -------------------------------------------------------


@shared_task
def refresh_suggestions() -> int:
    """Rebuild the search box's suggestions: popular queries, brands, categories."""
    return suggestions.refresh_suggestions()


# --- Adapting the models to the catalog (search.adaptation) ------------------------------------


@shared_task(acks_late=True)
def adapt_models(run_id: int) -> str | None:
    """Fine-tune the embedder (and train a reranker) on the catalog, build the new index and
    measure it: the AdaptationRun row shows the progress (admin: Model adaptations)."""
    run = adaptation.run_adaptation(run_id=run_id)
    return run.status if run else None
