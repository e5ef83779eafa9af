"""The catalog admin: staff only, and every product and photo it saves goes through the
services (values normalised, photos checked, checksummed and sized like an import's)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import services
from catalog.models import Product, ProductImage

pytestmark = pytest.mark.django_db


def test_staff_can_browse_and_edit_the_catalog_in_admin(admin_client, png_bytes):
    product, _ = services.upsert_product(sku="A-1", name="Mug", category="Home/Kitchen")
    services.attach_image(product=product, content=png_bytes(), filename="p.png")
    for url in [
        "/admin/catalog/product/",
        f"/admin/catalog/product/{product.pk}/change/",
        "/admin/catalog/category/",
        "/admin/catalog/productimage/",
        "/admin/search/searchindex/",
        "/admin/search/productembedding/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get("/admin/catalog/product/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def phone_photo() -> bytes:
    """A JPEG whose sensor is 40x20 with an EXIF quarter turn: shown 20x40, upright."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def product_form(**values) -> dict:
    """The admin's product page as a browser posts it, with one photo row."""
    form = {
        "sku": "ADM-1",
        "name": "Mug",
        "description": "",
        "brand": "",
        "category": "",
        "price": "",
        "currency": "USD",
        "attributes": "{}",
        "active": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-position": "0",
        "images-0-alt": "",
    }
    form.update(values)
    return form


def test_a_photo_uploaded_in_the_admin_is_stored_like_every_photo(admin_client):
    content = phone_photo()
    response = admin_client.post(
        "/admin/catalog/product/add/",
        product_form(
            name="  Stoneware mug ",
            currency="eur",
            price="9.5",
            **{"images-0-file": SimpleUploadedFile("IMG_0001.png", content)},
        ),
    )
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    product = Product.objects.get(sku="ADM-1")
    assert (product.name, product.currency, str(product.price)) == ("Stoneware mug", "EUR", "9.50")
    [image] = product.images.all()
    checksum = hashlib.sha256(content).hexdigest()
    assert image.checksum == checksum
    assert (image.width, image.height) == (20, 40)  # upright, as the shop shows it
    assert image.file.name == f"products/{checksum[:2]}/{checksum}.jpg"  # never the sender's name
    assert image.file.read() == content


def test_a_photo_or_value_the_services_refuse_is_a_form_error(admin_client, settings, png_bytes):
    settings.VITRINE_MAX_PHOTO_BYTES = 1000
    photo = SimpleUploadedFile("p.png", png_bytes("red", (400, 400)))
    big = admin_client.post("/admin/catalog/product/add/", product_form(**{"images-0-file": photo}))
    assert big.status_code == 200 and "KiB; the limit is" in big.content.decode()
    listed = admin_client.post("/admin/catalog/product/add/", product_form(attributes="[1, 2]"))
    assert listed.status_code == 200
    assert "must be an object of name -&gt; value" in listed.content.decode()
    assert not Product.objects.exists() and not ProductImage.objects.exists()


def test_admin_photo_edits_keep_the_file_and_removals_remove_the_photo(admin_client, png_bytes):
    product, _ = services.upsert_product(sku="ADM-1", name="Mug")
    red = services.attach_image(product=product, content=png_bytes("red"))
    blue = services.attach_image(product=product, content=png_bytes("blue"))
    form = product_form(
        **{
            "images-TOTAL_FORMS": "2",
            "images-INITIAL_FORMS": "2",
            "images-0-id": str(red.pk),
            "images-0-product": str(product.pk),
            "images-0-position": "1",
            "images-0-alt": "A red mug",
            "images-1-id": str(blue.pk),
            "images-1-product": str(product.pk),
            "images-1-position": "0",
            "images-1-DELETE": "on",
        }
    )
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", form)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    [image] = product.images.all()
    assert (image.pk, image.position, image.alt) == (red.pk, 1, "A red mug")
    assert (image.file.name, image.checksum) == (red.file.name, red.checksum)
