"""The failed-rows report: the rows that failed, as a CSV to fix and upload again."""

from __future__ import annotations

import csv
import io

import pytest

from catalog.imports import report
from catalog.models import Product
from tests.catalog.imports.helpers import run_import

pytestmark = pytest.mark.django_db


def test_failed_rows_come_back_as_a_csv_ready_to_fix_and_reupload():
    content = "sku,name,price,colour\nA-1,Mug,abc,red\nA-2,Cup,3,blue\n,Plate,4,white\n"
    job = run_import(content)
    failed = "".join(report.failed_rows_csv(job))
    rows = list(csv.DictReader(io.StringIO(failed)))

    assert [r["name"] for r in rows] == ["Mug", "Plate"]
    assert rows[0]["colour"] == "red" and rows[0]["price"] == "abc"
    assert rows[0]["import_error"].startswith("line 2: price: not a number")
    assert rows[1]["import_error"] == "line 4: sku: is required"

    rows[0]["price"], rows[1]["sku"] = "4.50", "A-3"
    fixed = io.StringIO()
    writer = csv.DictWriter(fixed, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    again = run_import(fixed.getvalue())
    assert (again.created, again.failed) == (2, 0)
    assert str(Product.objects.get(sku="A-1").price) == "4.50"
    assert Product.objects.get(sku="A-1").attributes == {"colour": "red"}  # not import_error


def test_failed_jsonl_rows_come_back_in_the_csv_format():
    content = '{"sku": "A-1", "name": "Mug", "price": "x", "category": ["Home", "Mugs"]}\n{oops\n'
    job = run_import(content, name="c.jsonl")
    rows = list(csv.DictReader(io.StringIO("".join(report.failed_rows_csv(job)))))
    assert rows[0]["sku"] == "A-1" and rows[0]["category"] == "Home/Mugs"
    assert rows[0]["price"] == "x" and "price" in rows[0]["import_error"]
    assert rows[1]["sku"] == "" and "line 2" in rows[1]["import_error"]
