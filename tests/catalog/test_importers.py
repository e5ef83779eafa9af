"""Bulk imports, run in-process as the worker runs them: what lands, what fails (alone, by
line and column), what is only warned about, and files that are refused as a whole."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog import importers
from catalog.models import ImportJob, Product
from catalog.signals import products_changed
from tests.support.image_host import ImageHostHandler

pytestmark = pytest.mark.django_db

HEADER = "sku,name,description,brand,category,price,currency,attributes,images\n"


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buf.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A tiny PNG that claims side x side pixels (900 megapixels by default)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + side // 8) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def run_import(
    content: bytes | str, *, name: str = "catalog.csv", photos: bytes | None = None
) -> ImportJob:
    """Upload as the admin/API does, then run the job as the worker does."""
    if isinstance(content, str):
        content = content.encode()
    job = importers.start_import(
        file=SimpleUploadedFile(name, content),
        images=SimpleUploadedFile("photos.zip", photos) if photos is not None else None,
    )
    return importers.run_import(job_id=job.pk)


def errors_of(job: ImportJob) -> list[dict]:
    return list(job.issues.filter(kind="error").values("line", "sku", "field", "message"))


def warnings_of(job: ImportJob) -> list[dict]:
    return list(job.issues.filter(kind="warning").values("line", "sku", "message"))


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


@pytest.mark.parametrize(
    ("photo", "reason"),
    [
        (None, "is not in the uploaded zip"),
        ("truncated", "damaged or truncated"),
        (b"<html>not an image</html>", "not an image"),
        ("large", "the limit is"),
        ("bomb", "too many pixels"),
    ],
)
def test_a_bad_photo_is_a_warning_and_the_product_lands_text_only(
    settings, png_bytes, photo, reason
):
    files = {"other.png": png_bytes()}
    if photo == "large":
        settings.VITRINE_MAX_PHOTO_BYTES = 1000
        photo = png_bytes("red", (400, 400))
    elif photo == "bomb":
        photo = png_bomb()
    elif photo == "truncated":
        photo = png_bytes("red", (300, 300))[:200]
    if photo is not None:
        files["shoe.png"] = photo
    content = HEADER + "OK-1,Fine,,,,1,,,other.png\nSHOE-1,Running shoe,,,,50,,,shoe.png\n"

    job = run_import(content, photos=make_zip(files))

    assert (job.status, job.created, job.failed) == ("done", 2, 0)
    shoe = Product.objects.get(sku="SHOE-1")
    assert shoe.name == "Running shoe" and not shoe.images.exists()
    [warning] = warnings_of(job)
    assert warning["line"] == 3 and warning["sku"] == "SHOE-1"
    assert "shoe.png" in warning["message"] and reason in warning["message"]
    assert "text-only" in warning["message"]


def test_photos_over_the_per_product_limit_are_dropped_with_a_warning(settings, png_bytes):
    settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT = 2
    photos = make_zip({f"{c}.png": png_bytes(c) for c in ("red", "green", "blue")})
    job = run_import(HEADER + "P-1,Mug,,,,1,,,red.png|green.png|blue.png\n", photos=photos)
    assert Product.objects.get(sku="P-1").images.count() == 2
    [warning] = warnings_of(job)
    assert "only the first 2" in warning["message"]


def test_a_changed_photo_replaces_the_old_one(png_bytes):
    run_import(HEADER + "P-1,Mug,,,,1,,,a.png\n", photos=make_zip({"a.png": png_bytes("red")}))
    job = run_import(
        HEADER + "P-1,Mug,,,,1,,,a.png\n", photos=make_zip({"a.png": png_bytes("blue")})
    )
    assert job.updated == 1
    [image] = Product.objects.get(sku="P-1").images.all()
    assert image.file.read() == png_bytes("blue") and image.position == 0


def _zip_with_member(name: str, data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


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
        (HEADER + "A-1,Mug,,,,1,,,\n", _zip_with_member("../../etc/cron.d/x"), "unsafe path"),
        (HEADER + "A-1,Mug,,,,1,,,\n", _zip_with_member("/etc/passwd"), "unsafe path"),
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
    with pytest.raises(importers.UploadRejected) as exc:
        run_import(HEADER + "A,a,,,,,,,\n")
    assert exc.value.too_large


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


def test_failed_rows_come_back_as_a_csv_ready_to_fix_and_reupload():
    content = "sku,name,price,colour\nA-1,Mug,abc,red\nA-2,Cup,3,blue\n,Plate,4,white\n"
    job = run_import(content)
    report = "".join(importers.failed_rows_csv(job))
    rows = list(csv.DictReader(io.StringIO(report)))

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
    rows = list(csv.DictReader(io.StringIO("".join(importers.failed_rows_csv(job)))))
    assert rows[0]["sku"] == "A-1" and rows[0]["category"] == "Home/Mugs"
    assert rows[0]["price"] == "x" and "price" in rows[0]["import_error"]
    assert rows[1]["sku"] == "" and "line 2" in rows[1]["import_error"]


def test_an_interrupted_import_continues_after_its_last_committed_batch(settings):
    settings.VITRINE_IMPORT_BATCH_SIZE = 2
    content = HEADER + "".join(f"R-{i},Row {i},,,,{i},,,\n" for i in range(7))
    job = importers.start_import(file=SimpleUploadedFile("c.csv", content.encode()))
    commits = []

    def die_after_two_batches(current: ImportJob) -> None:
        commits.append(current.processed)
        if current.processed >= 4:
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        importers.run_import(job_id=job.pk, on_progress=die_after_two_batches)
    job.refresh_from_db()
    assert job.status == "failed" and "run the import again" in job.message
    assert (job.processed, job.resume_line) == (4, 5) and Product.objects.count() == 4

    importers.retry_import(job_id=job.pk)
    job = importers.run_import(job_id=job.pk)

    assert job.status == "done" and job.attempts == 2
    assert (job.total, job.processed, job.created, job.unchanged) == (7, 7, 7, 0)
    assert Product.objects.count() == 7


def test_a_job_running_elsewhere_is_not_run_twice():
    job = importers.start_import(file=SimpleUploadedFile("c.csv", b"sku,name\nA,B\n"))
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=job.created_at)
    # A fresh heartbeat: a second delivery of the task leaves the job to its live run.
    assert importers.run_import(job_id=job.pk).processed == 0
    assert not Product.objects.exists()
    finished = importers.run_import(job_id=importers.start_import(
        file=SimpleUploadedFile("d.csv", b"sku,name\nA,B\n")).pk)  # fmt: skip
    assert importers.run_import(job_id=finished.pk).attempts == 1  # done stays done


def test_image_urls_are_fetched_once_and_bad_ones_are_warnings(image_host, png_bytes):
    base, routes = image_host
    routes["/red.png"] = (200, {"Content-Type": "image/png"}, png_bytes("red"))
    routes["/page"] = (200, {"Content-Type": "text/html"}, b"<html>")
    routes["/meta"] = (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    routes["/inside"] = (302, {"Location": "http://127.0.0.2/x.png"}, b"")
    content = HEADER + "".join(
        f"U-{i},Mug {i},,,,1,,,{base}{path}\n"
        for i, path in enumerate(["/red.png", "/page", "/meta", "/inside", "/gone.png"])
    ) + "U-9,Mug 9,,,,1,,,file:///etc/passwd\n"  # fmt: skip

    job = run_import(content)

    assert (job.created, job.failed) == (6, 0)
    [image] = Product.objects.get(sku="U-0").images.all()
    assert image.source_url == f"{base}/red.png" and image.file.read() == png_bytes("red")
    warnings = {w["sku"]: w["message"] for w in warnings_of(job)}
    assert "not an image (Content-Type text/html)" in warnings["U-1"]
    assert "169.254.169.254 is not a public address" in warnings["U-2"]
    assert "127.0.0.2 is not a public address" in warnings["U-3"]
    assert "answered 404" in warnings["U-4"]
    assert "only http(s) URLs" in warnings["U-9"]

    ImageHostHandler.hits.clear()
    again = run_import(content)
    assert again.unchanged == 6 and "/red.png" not in ImageHostHandler.hits  # not downloaded again


def test_private_addresses_are_refused_without_an_allow_list(png_bytes, image_host, settings):
    base, routes = image_host
    routes["/red.png"] = (200, {"Content-Type": "image/png"}, png_bytes("red"))
    settings.VITRINE_FETCH_ALLOWED_NETWORKS = []
    job = run_import(HEADER + f"U-1,Mug,,,,1,,,{base}/red.png\n")
    assert job.created == 1 and not Product.objects.get(sku="U-1").images.exists()
    assert "127.0.0.1 is not a public address" in warnings_of(job)[0]["message"]


def test_import_catalog_command_reads_a_folder_and_reports_by_line(tmp_path, png_bytes, capsys):
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    (tmp_path / "photos" / "sub" / "a.png").write_bytes(png_bytes("green"))
    (tmp_path / "secret.png").write_bytes(png_bytes("black"))
    data = tmp_path / "catalog.csv"
    data.write_text(
        HEADER
        + "C-1,Mug,,,Home,1,,,sub/a.png\n"
        + "C-2,Cup,,,Home,oops,,,\n"
        + "C-3,Plate,,,Home,2,,,../secret.png\n"
    )
    failed = tmp_path / "failed.csv"

    with pytest.raises(SystemExit) as exit_status:
        call_command(
            "import_catalog", str(data), images=str(tmp_path / "photos"), failed_rows=str(failed)
        )

    assert exit_status.value.code == 2
    out = capsys.readouterr().out
    assert "3 of 3 rows — 2 created, 0 updated, 0 unchanged, 1 failed, 1 warnings" in out
    assert "line 3 (C-2): price: not a number: 'oops'" in out
    assert "line 4 (C-3): images: photo '../secret.png' is outside the images folder" in out
    assert Product.objects.get(sku="C-1").images.count() == 1
    assert not Product.objects.get(sku="C-3").images.exists()
    assert "C-2" in failed.read_text() and "C-1" not in failed.read_text()

    failed.write_text(failed.read_text().replace("oops", "3"))  # fixed; exit status 0
    call_command("import_catalog", str(failed))
    assert str(Product.objects.get(sku="C-2").price) == "3.00"


def test_import_catalog_command_refuses_a_malformed_file(tmp_path):
    data = tmp_path / "catalog.csv"
    data.write_bytes("sku,name\nA-1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(Exception, match="not UTF-8"):
        call_command("import_catalog", str(data))
    assert not Product.objects.exists()


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


def test_an_unresolvable_image_host_is_given_up_after_a_few_rows(settings):
    settings.VITRINE_IMPORT_FETCH_CONCURRENCY = 1
    content = HEADER + "".join(
        f"H-{i},Mug {i},,,,1,,,http://no-such-host.invalid/{i}.png\n" for i in range(12)
    )
    job = run_import(content)
    assert (job.created, job.warned) == (12, 12)
    messages = [w["message"] for w in warnings_of(job)]
    assert all("cannot resolve host 'no-such-host.invalid'" in m for m in messages)
    assert sum("not retried" in m for m in messages) == 7


def test_a_phone_photo_is_stored_with_its_upright_size():
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: the sensor's 40x20 is a 20x40 portrait
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buf, format="JPEG", exif=exif)
    run_import(
        HEADER + "PH-1,Phone shot,,,,1,,,p.jpg\n", photos=make_zip({"p.jpg": buf.getvalue()})
    )
    [image] = Product.objects.get(sku="PH-1").images.all()
    assert (image.width, image.height) == (20, 40) and image.file.name.endswith(".jpg")
