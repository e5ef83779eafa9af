from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog import services
from catalog.images import PhotoRejected
from catalog.models import Category, Product, ProductImage

pytestmark = pytest.mark.django_db


def test_upsert_creates_then_updates_by_sku_without_duplicates():
    product, created = services.upsert_product(
        sku="A-1",
        name="Mug",
        price="9.5",
        category="Home/Kitchen/Mugs",
        attributes={"color": "red"},
    )
    assert created and product.price == Decimal("9.50")
    assert product.category.full_name == "Home / Kitchen / Mugs"
    assert product.category.path == "home/kitchen/mugs"

    again, created = services.upsert_product(
        sku="A-1", name="Big mug", category=["Home", "Kitchen", "Mugs"]
    )
    assert not created and again.pk == product.pk and again.name == "Big mug"
    assert Product.objects.count() == 1 and Category.objects.count() == 3


def test_unchanged_upsert_does_not_touch_the_row():
    product, _ = services.upsert_product(sku="A-1", name="Mug", price="9.50")
    stamp = product.updated_at
    same, _ = services.upsert_product(sku="A-1", name="Mug", price="9.5")
    assert same.updated_at == stamp


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sku": " ", "name": "Mug"}, "sku"),
        ({"sku": "A-2", "name": ""}, "name"),
        ({"sku": "A-2", "name": "Mug", "price": "ten"}, "price"),
        ({"sku": "A-2", "name": "Mug", "price": "-1"}, "price"),
        ({"sku": "A-2", "name": "Mug", "attributes": ["red"]}, "attributes"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(fields, field):
    with pytest.raises(ValidationError) as excinfo:
        services.upsert_product(**fields)
    assert field in excinfo.value.message_dict
    assert not Product.objects.exists()


def test_attach_image_stores_size_and_content_name_and_deduplicates(png_bytes):
    product, _ = services.upsert_product(sku="A-1", name="Mug")
    photo = services.attach_image(
        product=product, content=png_bytes(size=(40, 30)), filename="../../evil.png"
    )
    assert (photo.width, photo.height) == (40, 30)
    assert photo.file.name == f"products/{photo.checksum[:2]}/{photo.checksum}.png"
    services.attach_image(product=product, content=png_bytes(size=(40, 30)), filename="again.png")
    assert product.images.count() == 1


@pytest.mark.parametrize(
    "content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40]
)
def test_attach_image_refuses_undecodable_bytes_and_keeps_the_product(content):
    product, _ = services.upsert_product(sku="A-1", name="Mug")
    with pytest.raises(ValidationError):
        services.attach_image(product=product, content=content, filename="x.png")
    assert Product.objects.filter(sku="A-1").exists() and not ProductImage.objects.exists()


def test_one_normaliser_for_single_and_bulk_writes():
    values = {"name": "  Mug ", "brand": " Acme ", "price": "9.5", "currency": "eur"}
    single, _ = services.upsert_product(sku=" A-1 ", **values)
    [(bulk, _)] = services.save_products(items=[services.ProductInput(sku=" B-1 ", **values)])

    def stored(product: Product) -> tuple:
        product.refresh_from_db()
        return (product.name, product.brand, product.price, product.currency)

    assert (single.sku, bulk.sku) == ("A-1", "B-1")
    assert stored(single) == stored(bulk) == ("Mug", "Acme", Decimal("9.50"), "EUR")
    with pytest.raises(ValidationError) as excinfo:
        services.save_products(items=[services.ProductInput(sku="C-1", name="Mug", price="ten")])
    assert "price" in excinfo.value.message_dict


def test_read_photo_describes_the_bytes_whatever_their_name(png_bytes):
    content = png_bytes("red", (40, 30))
    photo = services.read_photo(content, source_url="https://cdn.example/x.html")
    assert photo.checksum == hashlib.sha256(content).hexdigest()
    assert (photo.width, photo.height, photo.extension) == (40, 30, "png")
    with pytest.raises(PhotoRejected, match="not an image"):
        services.read_photo(b"<html>not a photo</html>")


def test_a_photo_is_stored_once_whichever_path_sent_it(png_bytes):
    """attach_image (demo, tests) and the bulk write (imports, API photos) share one file."""
    content = png_bytes("blue")
    first, _ = services.upsert_product(sku="A-1", name="Mug")
    attached = services.attach_image(product=first, content=content)
    photo = services.read_photo(content)
    services.save_products(items=[services.ProductInput(sku="B-1", name="Cup", photos=[photo])])
    [imported] = Product.objects.get(sku="B-1").images.all()
    assert imported.file.name == attached.file.name
    assert (imported.width, imported.height, imported.checksum) == (
        attached.width, attached.height, attached.checksum,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_product_deleted_while_a_worker_adds_a_row_pointing_at_it_is_deleted():
    # The soak's admin got a 500 deleting a product while the click-signal refresh rewrote
    # the product's rows: a row added while the cascade deleted the old ones committed before
    # the product's own row went, and the foreign key failed the delete's commit. Here such a
    # row commits at that very moment: a receiver on its model makes the cascade look for the
    # rows first and delete them by id, which leaves a moment to commit in between.
    import threading

    from django.db import IntegrityError, connection, transaction
    from django.db.models.signals import pre_delete

    from search.insights.models import ClickSignal

    product, _ = services.upsert_product(sku="RACE-1", name="Race")
    collected, finished = threading.Event(), threading.Event()
    worker: dict[str, object] = {}

    def add_a_row_pointing_at_it() -> None:
        try:
            with transaction.atomic():
                ClickSignal.objects.create(normalised_query="race", product_id=product.pk)
                collected.wait(10)  # commit once the delete has looked for such rows
        except IntegrityError as exc:  # the delete won: the worker's row cannot point at it
            worker["error"] = exc
        finally:
            connection.close()
            finished.set()

    def cascade_looked(sender, **kwargs) -> None:
        collected.set()
        finished.wait(1)  # let the worker commit now, if nothing holds it back

    thread = threading.Thread(target=add_a_row_pointing_at_it)
    thread.start()

    def looked_at_its_rows(sender, **kwargs) -> None:
        pass

    pre_delete.connect(looked_at_its_rows, sender=ClickSignal)
    pre_delete.connect(cascade_looked, sender=Product)
    try:
        assert services.delete_product(sku="RACE-1")
    finally:
        pre_delete.disconnect(cascade_looked, sender=Product)
        pre_delete.disconnect(looked_at_its_rows, sender=ClickSignal)
        collected.set()
        thread.join(10)

    assert not Product.objects.filter(sku="RACE-1").exists()
    assert not ClickSignal.objects.filter(product_id=product.pk).exists()
    assert isinstance(worker.get("error"), IntegrityError)
