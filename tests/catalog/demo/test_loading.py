from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from PIL import Image

from catalog import services
from catalog.demo import demo_products, load_demo_catalog
from catalog.models import Product, ProductImage


@pytest.mark.django_db
def test_load_writes_products_with_a_decodable_photo_each():
    assert load_demo_catalog(limit=12) == 12

    expected = {p["sku"]: p for p in demo_products()[:12]}
    products = Product.objects.prefetch_related("images").select_related("category")
    assert {p.sku for p in products} == set(expected)
    # The first products already span several categories (they are interleaved).
    assert len({p.category_id for p in products}) >= 8
    for product in products:
        source = expected[product.sku]
        assert product.name == source["name"] and product.price == Decimal(source["price"])
        assert product.category.full_name == source["category"].replace("/", " / ")
        (photo,) = product.images.all()
        assert photo.alt == product.name and photo.width == 320
        with photo.file.open("rb") as fh, Image.open(fh) as image:
            image.load()
            assert image.size == (320, 320)


@pytest.mark.django_db
def test_loading_twice_creates_nothing_new():
    load_demo_catalog(limit=12)
    stamps = dict(Product.objects.values_list("sku", "updated_at"))
    photos = set(ProductImage.objects.values_list("id", "checksum"))

    assert load_demo_catalog(limit=12) == 12

    assert dict(Product.objects.values_list("sku", "updated_at")) == stamps
    assert set(ProductImage.objects.values_list("id", "checksum")) == photos


@pytest.mark.django_db
def test_command_loads_the_requested_number():
    out = io.StringIO()
    call_command("load_demo", "--limit", "5", "--if-empty", stdout=out, verbosity=0)
    assert Product.objects.count() == 5 and ProductImage.objects.count() == 5
    assert "Loaded 5 demo products" in out.getvalue()


@pytest.mark.django_db
def test_if_empty_leaves_a_shop_with_products_alone():
    services.upsert_product(sku="SHOP-1", name="The shop's own mug", price="12.00")
    out = io.StringIO()
    call_command("load_demo", "--limit", "5", "--if-empty", stdout=out, verbosity=0)
    assert list(Product.objects.values_list("sku", flat=True)) == ["SHOP-1"]
    assert not ProductImage.objects.exists()
    assert "already has 1 products" in out.getvalue()
