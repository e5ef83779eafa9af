"""An import job's lifecycle: an upload is queued for the import workers; uploaded files are
not kept forever: they go some days after their import finished, or with their job; the
job's report stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog import tasks
from catalog.imports import jobs, report, runner
from catalog.models import ImportJob, Product
from catalog.tasks import purge_import_files
from config.celery import app
from tests.catalog.imports.helpers import HEADER, make_zip, run_import

pytestmark = pytest.mark.django_db


def stored(job: ImportJob) -> list[bool]:
    return [bool(f) and f.storage.exists(f.name) for f in (job.file, job.images)]


def finished_days_ago(job: ImportJob, days: int) -> None:
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=days))


def test_old_finished_imports_lose_their_files_but_keep_their_report(settings, png_bytes):
    settings.VITRINE_IMPORT_FILE_RETENTION_DAYS = 30
    rows = HEADER + "K-1,Kettle,,,Home,10,,,k.png\nK-2,Kettle,,,Home,free,,,\n"
    old = run_import(rows, name="kettles.csv", photos=make_zip({"k.png": png_bytes()}))
    recent = run_import(HEADER + "T-1,Teapot,,,Home,12,,,\n", name="teapots.csv")
    assert stored(old) == [True, True]
    finished_days_ago(old, 31)
    finished_days_ago(recent, 2)

    assert purge_import_files() == 2  # what beat runs daily: the old job's csv and zip
    old.refresh_from_db()
    assert stored(old) == [False, False]
    assert stored(recent) == [True, False]  # (it had no photos zip)
    # What the shop sees of the old import is unchanged: its name, counts and failed rows.
    assert old.source_name == "kettles.csv"
    assert (old.created, old.failed) == (1, 1)
    assert "line 3" in report.error_lines(old)[3]
    assert Product.objects.filter(sku="K-1").exists()
    assert purge_import_files() == 0  # nothing left to remove


def test_retention_zero_keeps_every_file(settings):
    settings.VITRINE_IMPORT_FILE_RETENTION_DAYS = 0
    job = run_import(HEADER + "T-1,Teapot,,,Home,12,,,\n")
    finished_days_ago(job, 400)
    assert purge_import_files() == 0
    assert stored(job) == [True, False]


def test_retrying_an_import_whose_file_is_gone_says_to_upload_it_again():
    job = run_import("not,a,catalog\n")  # fails: no sku/name columns
    assert job.status == "failed"
    finished_days_ago(job, 90)
    jobs.purge_import_files(older_than_days=30)
    jobs.retry_import(job_id=job.pk)
    job = runner.run_import(job_id=job.pk)
    assert job.status == "failed"
    assert "upload it again" in job.message


def test_deleting_an_import_job_removes_its_uploads(django_capture_on_commit_callbacks):
    job = run_import(HEADER + "T-1,Teapot,,,Home,12,,,\n")
    file = job.file
    with django_capture_on_commit_callbacks(execute=True):
        job.delete()
    assert not file.storage.exists(file.name)


def test_an_upload_is_queued_by_task_name_for_the_import_workers(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **_: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_import(file=SimpleUploadedFile("c.csv", b"sku,name\nA-1,Mug\n"))
    assert sent == [(jobs.RUN_IMPORT_TASK, (job.pk,))]
    # The name is the task's, and it is routed to the import workers' queue.
    assert tasks.run_import.name == jobs.RUN_IMPORT_TASK
    assert app.amqp.router.route({}, jobs.RUN_IMPORT_TASK)["queue"].name == tasks.IMPORTS_QUEUE
