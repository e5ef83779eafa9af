"""An import job's lifecycle: an upload becomes a pending job queued for an import worker;
a failed or stalled job is queued again (it continues after its last committed batch);
finished jobs' stored files are purged after some days. Running a job is `runner`'s.

Jobs are queued by task name (`RUN_IMPORT_TASK`) through Celery's current app: the task
module calls into this one, so this one does not import it.
"""

from __future__ import annotations

import errno
import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from catalog.models import ImportJob

logger = logging.getLogger(__name__)

RUN_IMPORT_TASK = "catalog.tasks.run_import"


class UploadRejected(ValueError):
    """`too_large`: over a size limit (413); `no_space`: the server could not store it (507)."""

    def __init__(self, message: str, *, too_large: bool = False, no_space: bool = False):
        super().__init__(message)
        self.message = message
        self.too_large = too_large
        self.no_space = no_space


# What the storage says when it cannot take the bytes: disk full, or over a quota.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def check_uploads(*, file: UploadedFile | None, images: UploadedFile | None) -> None:
    """Cheap checks at upload time (sizes); the job checks the contents."""
    if file is None:
        raise UploadRejected("Choose a CSV or JSONL file.")
    if file.size > settings.VITRINE_IMPORT_MAX_BYTES:
        raise UploadRejected(
            f"The file is {file.size / 2**20:.1f} MiB; the limit is "
            f"{settings.VITRINE_IMPORT_MAX_BYTES / 2**20:.0f} MiB.",
            too_large=True,
        )
    if images is not None and images.size > settings.VITRINE_IMPORT_MAX_ZIP_BYTES:
        raise UploadRejected(
            f"The photos zip is {images.size / 2**20:.0f} MiB; the limit is "
            f"{settings.VITRINE_IMPORT_MAX_ZIP_BYTES / 2**20:.0f} MiB.",
            too_large=True,
        )


def enqueue_import(*, job_id: int) -> None:
    """Queue the job for an import worker once the transaction commits. A broker outage does
    not fail the upload: the job stays pending, and the next import worker that starts (or
    the admin's "Resume" action, or beat's check for stalled jobs) queues it again."""

    def send() -> None:
        try:
            current_app.send_task(RUN_IMPORT_TASK, args=(job_id,))
        except Exception:
            logger.warning("could not queue import %s; it stays pending", job_id, exc_info=True)

    transaction.on_commit(send)


@transaction.atomic
def start_import(
    *, file: UploadedFile, images: UploadedFile | None = None, created_by=None
) -> ImportJob:
    """Store an uploaded file (and photos zip) as a pending job; a worker runs it."""
    check_uploads(file=file, images=images)
    job = ImportJob(created_by=created_by if created_by and created_by.pk else None)
    try:
        job.file.save(file.name or "catalog.csv", file, save=False)
        if images is not None:
            job.images.save(images.name or "photos.zip", images, save=False)
    except OSError as exc:
        # Nothing half-stored: a file that was saved before the other failed goes too.
        for stored in (job.file, job.images):
            if stored:
                stored.delete(save=False)
        if exc.errno in _NO_SPACE:
            raise UploadRejected(
                "The server has no room to store this upload right now (its disk is full); "
                "nothing was imported. Try again once space is freed.",
                no_space=True,
            ) from exc
        raise
    job.save()
    enqueue_import(job_id=job.pk)
    return job


def retry_import(*, job_id: int) -> None:
    """Queue a job again (after a failure, or when its worker is gone): it continues after
    its last committed batch. A run still alive notices at its next commit and stops."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status == ImportJob.Status.DONE:
            return
        job.status = ImportJob.Status.PENDING
        job.message = ""
        job.finished_at = None
        job.heartbeat_at = None
        job.save(update_fields=["status", "message", "finished_at", "heartbeat_at"])
        enqueue_import(job_id=job.pk)


def delete_import_files(job: ImportJob) -> int:
    """Remove the job's stored uploads (data file, photos zip) from storage; the job keeps
    their names, so its report still says what was imported. Returns how many were there."""
    removed = 0
    for upload in (job.file, job.images):
        if upload and upload.storage.exists(upload.name):
            upload.storage.delete(upload.name)
            removed += 1
    return removed


def purge_import_files(*, older_than_days: int) -> int:
    """Remove the uploads of imports that finished more than `older_than_days` ago: a
    supplier's file has no use once its rows landed or were reported (the report lives in
    the database), and should not sit on disk forever. Returns the files removed."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    finished = ImportJob.objects.filter(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED], finished_at__lt=cutoff
    ).exclude(file="", images="")
    return sum(delete_import_files(job) for job in finished.iterator())


def resume_stalled_imports() -> list[int]:
    """Jobs whose run died (no heartbeat for VITRINE_IMPORT_STALL_S) or whose task message was
    lost go back to pending and are enqueued again; they continue after `resume_line`."""
    cutoff = timezone.now() - timedelta(seconds=settings.VITRINE_IMPORT_STALL_S)
    with transaction.atomic():
        stalled = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=[ImportJob.Status.RUNNING, ImportJob.Status.PENDING])
            .exclude(heartbeat_at__gt=cutoff)
            .filter(created_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        if stalled:
            ImportJob.objects.filter(pk__in=stalled).update(status=ImportJob.Status.PENDING)
            for job_id in stalled:
                enqueue_import(job_id=job_id)
    return stalled
