"""Running an import job as the worker runs it: what lands, in batches announced once each,
and a run that dies is continued after its last committed batch."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.imports import jobs, runner
from catalog.models import ImportJob, Product
from catalog.signals import products_changed
from tests.catalog.imports.helpers import HEADER, errors_of, make_zip, run_import

pytestmark = pytest.mark.django_db


def test_csv_rows_land_with_category_price_attributes_and_photos(png_bytes):
    content = HEADER + (
        'MUG-1,Stoneware mug,Holds 350 ml,Acme,Home/Kitchen/Mugs,9.90,eur,"{""color"": ""red""}",'
        "red.png|photos/blue.png\n"
        "MUG-2,Enamel mug,,Acme,Home/Kitchen/Mugs,,,,\n"
    )
    photos = make_zip({"red.png": png_bytes("red"), "photos/blue.png": png_bytes("blue", (20, 10))})

    job = run_import(content, photos=photos)

    assert (job.status, job.total, job.processed, job.created, job.failed) == ("done", 2, 2, 2, 0)
    mug = Product.objects.get(sku="MUG-1")
    assert mug.category.full_name == "Home / Kitchen / Mugs"
    assert str(mug.price) == "9.90" and mug.currency == "EUR"
    assert mug.attributes == {"color": "red"} and mug.brand == "Acme"
    images = list(mug.images.order_by("position"))
    assert [(i.width, i.height) for i in images] == [(64, 48), (20, 10)]
    assert images[0].file.read() == png_bytes("red")
    plain = Product.objects.get(sku="MUG-2")
    assert plain.price is None and plain.currency == "USD" and not plain.images.exists()
    assert plain.category_id == mug.category_id


def test_reimport_creates_nothing_and_leaves_unchanged_rows_alone(png_bytes):
    content = HEADER + "A-1,Mug,,,Home,5,,,a.png\nA-2,Cup,,,Home,6,,,\n"
    photos = make_zip({"a.png": png_bytes("red")})
    run_import(content, photos=photos)
    before = {p.sku: p.updated_at for p in Product.objects.all()}
    announced: list[int] = []

    def record(sender, product_ids, **kwargs):
        announced.extend(product_ids)

    products_changed.connect(record)
    try:
        again = run_import(content, photos=photos)
        changed = run_import(content.replace("Cup,,,Home,6", "Cup,,,Home,7"), photos=photos)
    finally:
        products_changed.disconnect(record)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert Product.objects.count() == 2
    assert Product.objects.get(sku="A-1").images.count() == 1
    assert Product.objects.get(sku="A-1").updated_at == before["A-1"]
    assert str(Product.objects.get(sku="A-2").price) == "7.00"


def test_changed_rows_are_announced_for_embedding_once_per_batch(
    settings, django_capture_on_commit_callbacks
):
    settings.VITRINE_IMPORT_BATCH_SIZE = 3
    announcements: list[list[int]] = []

    def record(sender, product_ids, **kwargs):
        announcements.append(list(product_ids))

    content = HEADER + "".join(f"B-{i},Product {i},,,,{i},,,\n" for i in range(7))
    products_changed.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = run_import(content)
        first = list(announcements)
        announcements.clear()
        with django_capture_on_commit_callbacks(execute=True):
            run_import(content)
    finally:
        products_changed.disconnect(record)

    assert job.created == 7
    assert [len(ids) for ids in first] == [3, 3, 1]  # batched, not one per product
    ids = set(Product.objects.values_list("pk", flat=True))
    assert {i for batch in first for i in batch} == ids
    assert announcements == []  # nothing changed, nothing to re-embed


def test_a_repeated_sku_in_one_file_applies_in_file_order():
    job = run_import(HEADER + "D-1,First name,,,,1,,,\nD-1,Second name,,,,2,,,\n")
    assert (job.created, job.updated, job.failed) == (1, 1, 0)
    assert Product.objects.get(sku="D-1").name == "Second name"


def test_an_interrupted_import_continues_after_its_last_committed_batch(settings):
    settings.VITRINE_IMPORT_BATCH_SIZE = 2
    content = HEADER + "".join(f"R-{i},Row {i},,,,{i},,,\n" for i in range(7))
    job = jobs.start_import(file=SimpleUploadedFile("c.csv", content.encode()))
    commits = []

    def die_after_two_batches(current: ImportJob) -> None:
        commits.append(current.processed)
        if current.processed >= 4:
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        runner.run_import(job_id=job.pk, on_progress=die_after_two_batches)
    job.refresh_from_db()
    assert job.status == "failed" and "run the import again" in job.message
    assert (job.processed, job.resume_line) == (4, 5) and Product.objects.count() == 4

    jobs.retry_import(job_id=job.pk)
    job = runner.run_import(job_id=job.pk)

    assert job.status == "done" and job.attempts == 2
    assert (job.total, job.processed, job.created, job.unchanged) == (7, 7, 7, 0)
    assert Product.objects.count() == 7


def test_a_job_running_elsewhere_is_not_run_twice():
    job = jobs.start_import(file=SimpleUploadedFile("c.csv", b"sku,name\nA,B\n"))
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=job.created_at)
    # A fresh heartbeat: a second delivery of the task leaves the job to its live run.
    assert runner.run_import(job_id=job.pk).processed == 0
    assert not Product.objects.exists()
    finished = runner.run_import(job_id=jobs.start_import(
        file=SimpleUploadedFile("d.csv", b"sku,name\nA,B\n")).pk)  # fmt: skip
    assert runner.run_import(job_id=finished.pk).attempts == 1  # done stays done


def test_a_bad_row_in_ten_thousand_is_reported_by_line_while_the_others_land():
    rows = [f"T-{i},Bath towel {i},,,Home/Bath,{i % 50 + 1},,,\n" for i in range(10_000)]
    rows[6_499] = "T-6499,Bath towel,,,Home/Bath,free,,,\n"  # line 6,501: the header is line 1
    job = run_import(HEADER + "".join(rows))
    assert (job.status, job.total, job.processed, job.created, job.failed) == (
        "done", 10_000, 10_000, 9_999, 1,
    )  # fmt: skip
    assert errors_of(job) == [
        {"line": 6_501, "sku": "T-6499", "field": "price", "message": "not a number: 'free'"}
    ]
    assert Product.objects.count() == 9_999 and not Product.objects.filter(sku="T-6499").exists()
