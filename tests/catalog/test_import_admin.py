"""The admin "Import catalog" page: upload, a live progress page, the report and the
failed rows as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.imports import jobs, runner
from catalog.models import ImportJob, Product
from tests.catalog.imports.helpers import HEADER, make_zip

pytestmark = pytest.mark.django_db


def test_staff_upload_watch_progress_and_download_failed_rows(admin_client, png_bytes):
    page = admin_client.get("/admin/catalog/importjob/upload/")
    assert page.status_code == 200
    assert b"Import catalog" in page.content and b'name="images"' in page.content

    content = HEADER + "ADM-1,Mug,,,Home,4,,,mug.png\nADM-2,Cup,,,Home,four,,,\n"
    response = admin_client.post(
        "/admin/catalog/importjob/upload/",
        {
            "file": SimpleUploadedFile("catalog.csv", content.encode()),
            "images": SimpleUploadedFile("photos.zip", make_zip({"mug.png": png_bytes()})),
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/catalog/importjob/{job.pk}/change/"
    assert job.created_by.username == "admin" and job.source_name == "catalog.csv"

    live = admin_client.get(response["Location"])
    assert live.status_code == 200
    assert b'role="progressbar"' in live.content and b"status.json" in live.content
    status_url = f"/admin/catalog/importjob/{job.pk}/status.json"
    assert admin_client.get(status_url).json()["status"] == "pending"

    runner.run_import(job_id=job.pk)  # the worker

    status = admin_client.get(status_url).json()
    assert status["finished"] and status["percent"] == 100
    assert (status["processed"], status["created"], status["failed"]) == (2, 1, 1)
    report = admin_client.get(response["Location"]).content.decode()
    assert "Rows not imported (1)" in report
    assert "<td>3</td><td>ADM-2</td><td>price</td><td>not a number: &#x27;four&#x27;</td>" in report
    assert "Download failed rows (CSV)" in report
    download = admin_client.get(f"/admin/catalog/importjob/{job.pk}/failed-rows.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(r["sku"], r["price"]) for r in rows] == [("ADM-2", "four")]
    assert download["Content-Disposition"] == 'attachment; filename="catalog-failed-rows.csv"'
    assert Product.objects.get(sku="ADM-1").images.count() == 1


def test_the_import_page_is_linked_from_products_and_imports(admin_client):
    for url in ("/admin/catalog/product/", "/admin/catalog/importjob/"):
        page = admin_client.get(url).content.decode()
        assert 'href="/admin/catalog/importjob/upload/"' in page, url
    assert admin_client.get("/admin/catalog/importjob/add/")["Location"].endswith("/upload/")


def test_upload_form_errors_are_shown(admin_client, settings):
    empty = admin_client.post("/admin/catalog/importjob/upload/", {})
    assert empty.status_code == 200 and b"This field is required" in empty.content
    settings.VITRINE_IMPORT_MAX_BYTES = 10
    big = admin_client.post(
        "/admin/catalog/importjob/upload/",
        {"file": SimpleUploadedFile("c.csv", b"sku,name\nA-1,Mug\n")},
    )
    assert big.status_code == 200 and b"the limit is" in big.content
    assert not ImportJob.objects.exists()


def test_only_staff_with_the_permission_can_import(client):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/catalog/importjob/upload/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="add_importjob"))
    assert client.get("/admin/catalog/importjob/upload/").status_code == 200
    client.logout()
    assert client.get("/admin/catalog/importjob/upload/").status_code == 302


def test_a_failed_import_can_be_resumed_from_the_admin_list(admin_client):
    job = jobs.start_import(file=SimpleUploadedFile("c.csv", b"sku,name\nA-1,Mug\n"))
    ImportJob.objects.filter(pk=job.pk).update(status="failed", message="worker lost")
    response = admin_client.post(
        "/admin/catalog/importjob/",
        {"action": "resume", "_selected_action": [job.pk]},
        follow=True,
    )
    assert b"1 import(s) queued again." in response.content
    job.refresh_from_db()
    assert (job.status, job.message) == ("pending", "")
    assert runner.run_import(job_id=job.pk).status == "done"  # what the queued task does
    assert Product.objects.filter(sku="A-1").exists()
