"""Bulk imports through the API: a staff token uploads, gets 202 and a status URL, and
reads the progress and the report there; anonymous and non-staff callers are refused."""

from __future__ import annotations

import csv
import errno
import io

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog.imports import runner
from catalog.models import ImportJob, Product
from tests.catalog.imports.helpers import HEADER, make_zip

pytestmark = pytest.mark.django_db


def token_for(username: str, *, staff: bool) -> str:
    User.objects.create_user(username, password="pw", is_staff=staff)
    out = io.StringIO()
    call_command("drf_create_token", username, stdout=out)
    return out.getvalue().split()[2]  # "Generated token <key> for user <name>"


@pytest.fixture
def staff_auth() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token_for('ops', staff=True)}"}


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_staff_uploads_csv_and_zip_then_follows_the_status_url(client, staff_auth, png_bytes):
    content = HEADER + (
        "API-1,Red mug,,,Home/Mugs,5,,,red.png\n"
        "API-2,Cup,,,Home/Mugs,abc,,,\n"
        "API-3,Plate,,,Home,7,,,missing.png\n"
    )
    response = client.post(
        "/api/v1/imports",
        {
            "file": upload("catalog.csv", content.encode()),
            "images": upload("photos.zip", make_zip({"red.png": png_bytes()})),
        },
        **staff_auth,
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and response["Location"] == body["status_url"]
    assert body["status_url"] == f"http://testserver/api/v1/imports/{body['id']}"

    pending = client.get(body["status_url"], **staff_auth).json()
    assert (pending["status"], pending["processed"], pending["total"]) == ("pending", 0, None)

    runner.run_import(job_id=body["id"])  # what the worker on the `imports` queue does
    status = client.get(body["status_url"], **staff_auth).json()

    assert status["status"] == "done"
    assert {k: status[k] for k in ("total", "processed", "created", "updated", "failed")} == {
        "total": 3, "processed": 3, "created": 2, "updated": 0, "failed": 1,
    }  # fmt: skip
    assert status["errors"] == [
        {"line": 3, "sku": "API-2", "field": "price", "message": "not a number: 'abc'"}
    ]
    [warning] = status["warnings"]
    assert warning["line"] == 4 and warning["sku"] == "API-3"
    assert "missing.png' is not in the uploaded zip" in warning["message"]
    assert Product.objects.get(sku="API-1").images.count() == 1

    report = client.get(status["failed_rows_url"], **staff_auth)
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [r["sku"] for r in rows] == ["API-2"]


def test_a_rejected_file_is_reported_on_the_status_url(client, staff_auth):
    response = client.post(
        "/api/v1/imports", {"file": upload("c.csv", b"\x89PNG\r\n\x1a\nbinary")}, **staff_auth
    )
    runner.run_import(job_id=response.json()["id"])
    status = client.get(response.json()["status_url"], **staff_auth).json()
    assert status["status"] == "failed" and "PNG image" in status["message"]
    assert status["errors"] == [] and status["failed_rows_url"] is None


def test_anonymous_and_non_staff_callers_cannot_import(client):
    data = {"file": upload("c.csv", b"sku,name\nA,B\n")}
    anonymous = client.post("/api/v1/imports", data)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    shopper = {"HTTP_AUTHORIZATION": f"Token {token_for('shopper', staff=False)}"}
    assert client.post("/api/v1/imports", data, **shopper).status_code == 403
    job = ImportJob.objects.create()
    assert client.get(f"/api/v1/imports/{job.pk}").status_code == 401
    assert client.get(f"/api/v1/imports/{job.pk}", **shopper).status_code == 403
    assert ImportJob.objects.count() == 1


def test_missing_or_oversized_uploads_are_refused_at_once(client, staff_auth, settings):
    assert client.post("/api/v1/imports", {}, **staff_auth).status_code == 400
    settings.VITRINE_IMPORT_MAX_BYTES = 100
    big = upload("c.csv", b"sku,name\n" + b"A,B\n" * 100)
    response = client.post("/api/v1/imports", {"file": big}, **staff_auth)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_staff_can_list_recent_imports(client, staff_auth):
    client.post("/api/v1/imports", {"file": upload("a.csv", b"sku,name\nA,B\n")}, **staff_auth)
    listing = client.get("/api/v1/imports", **staff_auth).json()
    assert listing["count"] == 1 and listing["results"][0]["file"] == "a.csv"


def test_an_upload_the_disk_cannot_hold_is_refused_with_507_and_leaves_nothing_behind(
    client, staff_auth, png_bytes, monkeypatch, settings, tmp_path
):
    """The CSV fits, the photos zip does not (disk full): 507 with the reason, no job, and
    the CSV already written is removed (nothing half-stored)."""
    from django.core.files.storage import FileSystemStorage

    settings.MEDIA_ROOT = str(tmp_path)
    save = FileSystemStorage._save

    def disk_full_for_zips(self, name, content):
        if name.endswith(".zip"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full_for_zips)
    response = client.post(
        "/api/v1/imports",
        {
            "file": upload("catalog.csv", (HEADER + "API-9,Mug,,,Home,5,,,red.png\n").encode()),
            "images": upload("photos.zip", make_zip({"red.png": png_bytes()})),
        },
        **staff_auth,
    )
    assert response.status_code == 507, response.content
    assert "disk is full" in response.json()["detail"]
    assert not ImportJob.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
