"""Reading an import file: what fails the whole file (and changes nothing), the delimiters
spreadsheets write, and broken lines that fail alone."""

from __future__ import annotations

import pytest

from catalog.imports import jobs
from catalog.models import Product
from tests.catalog.imports.helpers import (
    HEADER,
    errors_of,
    make_zip,
    run_import,
    zip_with_member,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("content", "photos", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "not a CSV or JSONL file: it is a PNG"),
        (make_zip({"sheet.xml": b"<x/>"}), None, "Excel"),
        (
            (HEADER + "A-1,Caf\xe9 mug,,,,1,,,\n").encode("latin-1"),
            None,
            "Line 2 is not UTF-8",
        ),
        ('[{"sku": "A-1", "name": "Mug"}]', None, "JSON array"),
        ("id,title_text,cost\n1,Mug,3\n", None, "at least the columns sku and name"),
        ("sku,name,sku\nA,B,C\n", None, "repeats the column"),
        (HEADER, None, "no rows"),
        ("", None, "empty"),
        ('not json\n{"sku": "A-1", "name": "Mug"}\n', None, "at least the columns sku and name"),
        (HEADER + "A-1,Mug,,,,1,,,\n", b"this is not a zip", "not a zip archive"),
        (HEADER + "A-1,Mug,,,,1,,,\n", zip_with_member("../../etc/cron.d/x"), "unsafe path"),
        (HEADER + "A-1,Mug,,,,1,,,\n", zip_with_member("/etc/passwd"), "unsafe path"),
        (HEADER + "A-1,Mug,,,,1,,,\n", make_zip({"a.bin": b"\0" * 5000}), "zip bomb"),
    ],
)
def test_a_malformed_file_fails_the_job_and_changes_nothing(settings, content, photos, message):
    settings.VITRINE_IMPORT_MAX_UNZIPPED_BYTES = 4096
    job = run_import(content, photos=photos)
    assert job.status == "failed"
    assert message in job.message
    assert Product.objects.count() == 0 and job.issues.count() == 0
    assert job.processed == 0


def test_limits_on_rows_and_upload_size_come_from_settings(settings):
    settings.VITRINE_IMPORT_MAX_ROWS = 2
    job = run_import(HEADER + "A,a,,,,,,,\nB,b,,,,,,,\nC,c,,,,,,,\n")
    assert job.status == "failed" and "more than 2 rows" in job.message
    assert not Product.objects.exists()

    settings.VITRINE_IMPORT_MAX_BYTES = 10
    with pytest.raises(jobs.UploadRejected) as exc:
        run_import(HEADER + "A,a,,,,,,,\n")
    assert exc.value.too_large


def test_semicolon_and_tab_separated_files_from_spreadsheets_are_read():
    job = run_import('sku;name;price\nS-1;"Mug; large";3,5\nS-2;Cup;4\n')
    assert (job.created, job.failed) == (1, 1)
    assert Product.objects.get(sku="S-2").price == 4
    assert errors_of(job)[0]["line"] == 2 and errors_of(job)[0]["field"] == "price"
    assert run_import("sku\tname\nT-1\tTab mug\n").created == 1


def test_a_broken_first_jsonl_line_fails_alone():
    job = run_import('{"sku": "A-1", "name": \n{"sku": "A-2", "name": "Cup"}\n', name="c.jsonl")
    assert (job.status, job.created, job.failed) == ("done", 1, 1)
    assert errors_of(job)[0]["line"] == 1
