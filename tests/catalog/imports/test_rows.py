"""A row's validation: a bad row fails alone, by line and column, with its reason; the good
rows of the same file land. JSON types, ESCI-style rows and extra columns are read."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from catalog.imports.rows import RowInvalid, clean_row
from catalog.models import Product
from tests.catalog.imports.helpers import HEADER, errors_of, run_import, warnings_of

pytestmark = pytest.mark.django_db


def test_bad_csv_rows_fail_alone_with_line_column_and_reason():
    content = HEADER + (
        "OK-1,Good one,,,,1.00,,,\n"  # line 2
        ",No SKU here,,,,2.00,,,\n"  # line 3
        'OK-2,"Two-line\nname",,,,3,,,\n'  # lines 4-5: a quoted newline
        "BAD-PRICE,Mug,,,,twelve,,,\n"  # line 6
        'BAD-ATTR,Mug,,,,4,,"[1, 2]",\n'  # line 7
        "BAD-CUR,Mug,,,,4,dollars,,\n"  # line 8
        "OK-3,Last good one,,,,-,,,\n"  # line 9: "-" is not a price either
        "OK-4,Really last,,,,5,,,\n"  # line 10
    )
    job = run_import(content)

    assert job.status == "done"
    assert (job.total, job.processed, job.created, job.failed) == (8, 8, 3, 5)
    assert set(Product.objects.values_list("sku", flat=True)) == {"OK-1", "OK-2", "OK-4"}
    assert Product.objects.get(sku="OK-2").name == "Two-line\nname"
    by_line = {e["line"]: e for e in errors_of(job)}
    assert by_line[3] == {"line": 3, "sku": "", "field": "sku", "message": "is required"}
    assert by_line[6]["sku"] == "BAD-PRICE" and by_line[6]["field"] == "price"
    assert "twelve" in by_line[6]["message"]
    assert by_line[7]["field"] == "attributes" and "JSON object" in by_line[7]["message"]
    assert by_line[8]["field"] == "currency"
    assert by_line[9]["field"] == "price"
    assert set(by_line) == {3, 6, 7, 8, 9}


def test_jsonl_wrong_types_and_broken_lines_fail_alone():
    lines = [
        {"sku": "J-1", "name": "Good", "price": 12.5, "category": ["Home", "Bath"]},  # 1
        {"sku": "J-2", "name": 42},  # 2
        "",  # 3: blank lines are skipped but counted
        {"sku": "J-3", "name": "Mug", "price": True},  # 4
        {"sku": "J-4", "name": "Mug", "category": {"a": 1}, "images": 7},  # 5
        '{"sku": "J-5", "name": ',  # 6: broken JSON
        "[1, 2]",  # 7: not an object
        {"sku": 1234, "name": "Numeric SKU", "price": "3.50", "attributes": None},  # 8
    ]
    content = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)

    job = run_import(content, name="catalog.jsonl")

    assert (job.status, job.format, job.created, job.failed) == ("done", "jsonl", 2, 5)
    assert Product.objects.get(sku="J-1").category.full_name == "Home / Bath"
    assert str(Product.objects.get(sku="1234").price) == "3.50"
    errors = errors_of(job)
    assert {(e["line"], e["field"]) for e in errors} == {
        (2, "name"),
        (4, "price"),
        (5, "category"),
        (5, "images"),
        (6, ""),
        (7, ""),
    }
    messages = {(e["line"], e["field"]): e["message"] for e in errors}
    assert messages[(2, "name")] == "must be text, not a number"
    assert messages[(4, "price")] == "must be a number, not a boolean"
    assert "not valid JSON" in messages[(6, "")]
    assert "not a JSON object" in messages[(7, "")]


def test_esci_style_jsonl_is_read(png_bytes):
    rows = [
        {  # the raw ESCI product shape
            "asin": "B07CXG6C9W",
            "title": "Kindle Paperwhite",
            "description": "",
            "bullet_points": "Waterproof.\nTwice the storage.",
            "brand": "Amazon",
            "color": "Black",
            "image": "",
            "price": None,
            "category": [],
            "rating": 4.6,
        },
        {  # the converted shape (bench/esci_to_jsonl.py)
            "sku": "B000TEST01",
            "name": "Oak shelf",
            "description": "Solid oak",
            "brand": "",
            "category": "Home & Kitchen/Furniture/Shelves",
            "price": None,
            "currency": "USD",
            "attributes": {"color": "Brown"},
            "images": [],
        },
    ]
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    job = run_import(content, name="products.jsonl")

    assert (job.created, job.failed) == (2, 0)
    kindle = Product.objects.get(sku="B07CXG6C9W")
    assert kindle.name == "Kindle Paperwhite" and "Twice the storage" in kindle.description
    assert kindle.attributes == {"color": "Black", "rating": 4.6} and kindle.price is None
    shelf = Product.objects.get(sku="B000TEST01")
    assert shelf.category.full_name == "Home & Kitchen / Furniture / Shelves"
    [note] = warnings_of(job)
    assert note["line"] == 1 and "kept as attributes: color, rating" in note["message"]


def test_a_row_becomes_product_values_or_every_bad_field_with_its_reason():
    row = clean_row(
        {
            "sku": " A-1 ", "name": "Mug", "price": "9.5", "currency": "eur",
            "category": "Home/ Mugs", "images": "a.png| https://cdn.example/b.png",
            "active": "no", "colour": "red",
        },
        from_text=True,
    )  # fmt: skip
    assert row.product_fields() == {
        "sku": "A-1", "name": "Mug", "description": "", "brand": "", "price": Decimal("9.50"),
        "currency": "EUR", "attributes": {"colour": "red"}, "category": ["Home", "Mugs"],
        "active": False,
    }  # fmt: skip
    assert row.images == ["a.png", "https://cdn.example/b.png"]

    with pytest.raises(RowInvalid) as excinfo:
        clean_row({"sku": "A/1", "price": "-1", "active": "maybe"}, from_text=True)
    assert dict(excinfo.value.errors) == {
        "sku": "must not contain '/'",
        "name": "is required",
        "price": "must be a non-negative number: '-1'",
        "active": "must be true or false, not 'maybe'",
    }
