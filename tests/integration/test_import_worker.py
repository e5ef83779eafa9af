"""Imports for real: the API hands the file to a Celery worker on the `imports` queue, the
changed products are embedded by the embed worker, and an import whose worker is killed
mid-file is continued by the next worker from its last committed batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from catalog.models import ImportJob, Product
from catalog.tasks import resume_stalled_import_jobs, run_import
from config.celery import app
from search.models import ProductEmbedding
from tests.catalog.imports.helpers import HEADER, make_zip

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float = 90, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_api_upload_is_imported_by_the_worker_and_embedded(celery_worker, client, png_bytes):
    user = User.objects.create_user("ops", is_staff=True)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
    rows = [
        f"W-{i},Cotton bath towel {i},Soft and thick,,Home/Bath,{i + 5},,,t{i % 3}.png\n"
        for i in range(30)
    ]
    rows.append("W-BAD,Towel,,,Home/Bath,free,,,\n")
    photos = make_zip(
        {f"t{i}.png": png_bytes(color) for i, color in enumerate("red blue white".split())}
    )

    response = client.post(
        "/api/v1/imports",
        {
            "file": SimpleUploadedFile("towels.csv", (HEADER + "".join(rows)).encode()),
            "images": SimpleUploadedFile("photos.zip", photos),
        },
        **auth,
    )
    assert response.status_code == 202
    status_url = response.json()["status_url"]

    def finished() -> dict | None:
        body = client.get(status_url, **auth).json()
        return body if body["status"] in ("done", "failed") else None

    assert wait_until(finished, timeout=60), client.get(status_url, **auth).json()
    body = finished()
    assert (body["status"], body["created"], body["failed"]) == ("done", 30, 1)
    assert body["errors"][0]["line"] == 32 and body["errors"][0]["field"] == "price"
    assert Product.objects.get(sku="W-7").images.count() == 1

    # The import announced its products once per batch; the embed worker picked them up.
    assert wait_until(lambda: ProductEmbedding.objects.exclude(embedding=None).count() == 30)


def start_worker(queues: str, log: Path, **env_extra: str) -> subprocess.Popen:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}",
        "REDIS_URL": settings.REDIS_URL,
        "VITRINE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VITRINE_WORKER_PRELOAD_MODELS": "0",  # an import worker needs no model
        **env_extra,
    }
    name = f"imports-{os.getpid()}-{time.monotonic_ns()}@localhost"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-c", "1",
             "-n", name, "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    if not wait_until(lambda: app.control.ping(destination=[name], timeout=0.5), timeout=60):
        os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        proc.wait(30)


def test_a_killed_import_is_resumed_by_the_next_worker_without_duplicates(tmp_path):
    rows = 60
    content = HEADER + "".join(f"K-{i},Kettle {i},,,Home/Kitchen,{i},,,\n" for i in range(rows))
    job = ImportJob()
    job.file.save("kettles.csv", ContentFile(content.encode()))
    log = tmp_path / "workers.log"
    # A slow worker (5 rows per commit, a pause after each) on a queue of its own...
    queue = f"imports-test-{os.getpid()}"
    first = start_worker(
        queue, log, VITRINE_IMPORT_BATCH_SIZE="5", VITRINE_IMPORT_BATCH_PAUSE_S="0.3"
    )
    try:
        run_import.apply_async((job.pk,), queue=queue)
        assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).processed >= 15, timeout=60)
    finally:
        stop(first, signal.SIGKILL)  # ...dies mid-file, without a chance to clean up.
    job.refresh_from_db()
    assert job.status == "running" and 15 <= job.processed < rows
    assert Product.objects.count() == job.processed  # committed batches only

    # The next import worker that starts finds the stalled job and continues it.
    time.sleep(1.2)
    second = start_worker("imports", log, VITRINE_IMPORT_STALL_S="1")
    try:
        assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == "done", timeout=60), (
            log.read_text()[-3000:]
        )
    finally:
        stop(second)
    job.refresh_from_db()
    # Continued after the last commit: no row was done twice (none counted "unchanged").
    counts = (job.total, job.processed, job.created, job.updated, job.unchanged)
    assert counts == (rows, rows, rows, 0, 0)
    assert job.attempts == 2
    assert Product.objects.count() == rows


def test_beat_continues_a_stalled_import_while_every_worker_stays_up(celery_worker, settings):
    rows = 12
    content = HEADER + "".join(f"S-{i},Spoon {i},,,Home/Kitchen,{i},,,\n" for i in range(rows))
    job = ImportJob()
    job.file.save("spoons.csv", ContentFile(content.encode()))
    # Its worker process died an hour ago before the first batch; no import worker restarted.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=an_hour_ago, created_at=an_hour_ago
    )

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "catalog.tasks.resume_stalled_import_jobs" in scheduled
    assert resume_stalled_import_jobs() == 1  # what beat runs every VITRINE_IMPORT_STALL_S

    assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == "done", timeout=60)
    assert Product.objects.filter(sku__startswith="S-").count() == rows
    assert resume_stalled_import_jobs() == 0  # nothing left to continue
    # ...and its products become searchable (the embed worker is done before teardown).
    embedded = ProductEmbedding.objects.filter(product__sku__startswith="S-")
    assert wait_until(lambda: embedded.count() == rows, timeout=90)
