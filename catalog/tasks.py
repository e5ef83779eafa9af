"""Celery tasks of the catalog: thin wrappers that take ids and call the import code.

They run on the CPU queue `imports` (see CELERY_TASK_ROUTES), never on the GPU workers. The
dependency is one way: tasks call `catalog.imports`; the import code queues a job by task
name (`jobs.RUN_IMPORT_TASK`) and never imports this module."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import transaction

from catalog.imports import jobs, photos, runner

logger = logging.getLogger(__name__)

IMPORTS_QUEUE = "imports"
# A job that is still running elsewhere is checked again after a quarter of
# VITRINE_IMPORT_STALL_S (so a dead run is taken over soon after it counts as dead), but
# never sooner than 5 s (a busy broker) nor later than a minute (the upload is waited for).
RECHECK_MIN_S = 5.0
RECHECK_MAX_S = 60.0


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=1000)
def run_import(self, job_id: int) -> None:
    """Run or continue an import job. A second delivery of the same job finds it finished
    (and does nothing) or running with a recent heartbeat: then it checks again later, so a
    job whose worker process died (and whose message came back) is continued once its
    heartbeat is older than VITRINE_IMPORT_STALL_S."""
    job = runner.run_import(job_id=job_id)
    if not job.finished:
        recheck = min(RECHECK_MAX_S, settings.VITRINE_IMPORT_STALL_S / 4)
        raise self.retry(countdown=max(RECHECK_MIN_S, recheck))
    logger.info(
        "import %s %s: %s processed, %s created, %s updated, %s failed",
        job.pk, job.status, job.processed, job.created, job.updated, job.failed,
    )  # fmt: skip


@shared_task(acks_late=True, ignore_result=True)
def fetch_product_photos(product_id: int, urls: list[str]) -> None:
    """Download a product's photos given by URL (API writes) with the SSRF-guarded fetcher."""
    photos.fetch_photos_for_product(product_id=product_id, urls=urls)


def enqueue_photo_fetch(*, product_id: int, urls: list[str]) -> None:
    """Queue the download of a product's photos once the product's write commits. A broker
    outage does not fail the write: the product is saved, and its photos can be sent again."""

    def send() -> None:
        try:
            fetch_product_photos.delay(product_id, urls)
        except Exception:
            logger.warning("could not enqueue the photos of product %s", product_id, exc_info=True)

    transaction.on_commit(send)


@shared_task(ignore_result=True)
def resume_stalled_import_jobs() -> int:
    """Celery beat's check for imports whose worker died while every import worker stayed up
    (one of several processes killed, a lost message): continue them from their last batch."""
    resumed = jobs.resume_stalled_imports()
    if resumed:
        logger.info("resuming stalled imports: %s", resumed)
    return len(resumed)


@shared_task(ignore_result=True)
def purge_import_files() -> int:
    """Celery beat, daily: remove uploads of imports finished longer ago than
    VITRINE_IMPORT_FILE_RETENTION_DAYS (0 keeps them forever)."""
    days = settings.VITRINE_IMPORT_FILE_RETENTION_DAYS
    if not days:
        return 0
    removed = jobs.purge_import_files(older_than_days=days)
    if removed:
        logger.info("removed %d stored import files older than %d days", removed, days)
    return removed


@worker_ready.connect
def resume_stalled_imports(sender=None, **_kwargs) -> None:
    """When an import worker starts (e.g. after a crash), jobs whose run died are continued
    from their last committed batch."""
    app = getattr(sender, "app", None)
    queues = app.amqp.queues.consume_from if app is not None else {}
    if IMPORTS_QUEUE not in (queues or {}):
        return
    try:
        resumed = jobs.resume_stalled_imports()
    except Exception:  # a worker must start even when the database is not there yet
        logger.warning("could not look for stalled imports", exc_info=True)
        return
    if resumed:
        logger.info("resuming stalled imports: %s", resumed)
