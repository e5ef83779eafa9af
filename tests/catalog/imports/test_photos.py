"""A row's photos: from the zip, a folder or URLs; a bad one is a warning and the product
lands without it; photos the product has already are not read again."""

from __future__ import annotations

import io

import pytest

from catalog.models import Product
from tests.catalog.imports.helpers import HEADER, make_zip, png_bomb, run_import, warnings_of
from tests.support.image_host import ImageHostHandler

pytestmark = pytest.mark.django_db


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
