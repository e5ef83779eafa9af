"""Product CRUD for staff: JSON with the fields of an import row, validated by the same
rules (same reasons); a deleted product leaves search at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from catalog.imports import jobs, runner
from catalog.models import Product
from config.celery import app
from search.indexing.embedding import embed_products
from tests.catalog.imports.helpers import HEADER, make_zip

pytestmark = pytest.mark.django_db

MUG = {
    "sku": "MUG-1",
    "name": "Stoneware coffee mug",
    "description": "Holds 350 ml of hot coffee.",
    "brand": "Acme",
    "category": "Home/Kitchen/Mugs",
    "price": 12.5,
    "currency": "EUR",
    "attributes": {"color": "blue"},
}


@pytest.fixture
def api(client):
    user = User.objects.create_user("ops", is_staff=True)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}

    class Api:
        def get(self, url, **params):
            return client.get(url, params, **auth)

        def send(self, method, url, body=None):
            return getattr(client, method)(url, body, content_type="application/json", **auth)

    return Api()


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in this process (the photo download the API enqueues)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_staff_create_read_and_list_products(api):
    response = api.send("post", "/api/v1/products", MUG)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in MUG} == MUG
    assert body["images"] == [] and body["active"] is True
    assert body["category_path"] == "home/kitchen/mugs"
    assert response["Location"] == body["url"] == "http://testserver/products/MUG-1/"
    assert Product.objects.get(sku="MUG-1").category.full_name == "Home / Kitchen / Mugs"

    assert api.get("/api/v1/products/MUG-1").json() == body
    api.send("post", "/api/v1/products", {"sku": "LAMP-1", "name": "Desk lamp", "brand": "Lux"})
    listing = api.get("/api/v1/products", category="Home/Kitchen").json()
    assert listing["count"] == 1 and listing["results"][0]["sku"] == "MUG-1"
    assert [p["sku"] for p in api.get("/api/v1/products", q="lamp").json()["results"]] == ["LAMP-1"]


def test_invalid_fields_are_refused_with_the_import_reasons(api):
    response = api.send(
        "post",
        "/api/v1/products",
        {"name": 42, "price": "twelve", "attributes": [1], "category": {"a": 1}, "x": 1},
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["sku"] == ["is required"]
    assert errors["name"] == ["must be text, not a number"]
    assert errors["price"] == ["not a number: 'twelve'"]
    assert "JSON object" in errors["attributes"][0] and "path" in errors["category"][0]
    not_url = api.send("post", "/api/v1/products", {**MUG, "images": ["mug.png"]})
    assert not_url.status_code == 400 and "http(s) URL" in not_url.json()["images"][0]
    assert not Product.objects.exists()


@pytest.mark.parametrize("price", ["1e30", 1e30, "99999999999", "-1", "NaN"])
def test_an_absurd_price_is_a_clear_400_not_a_server_error(api, price):
    response = api.send("post", "/api/v1/products", {**MUG, "price": price})
    assert response.status_code == 400, response.content
    assert response.json()["price"][0].startswith(("is too large", "must be a non-negative"))
    assert not Product.objects.exists()


@pytest.mark.parametrize("attributes", [{"colour": "red\x00"}, {"col\x00our": "red"}])
def test_a_nul_character_in_attributes_is_a_clear_400_not_a_server_error(api, attributes):
    response = api.send("post", "/api/v1/products", {**MUG, "attributes": attributes})
    assert response.status_code == 400, response.content
    assert response.json()["attributes"] == ["contains a NUL character"]
    assert not Product.objects.exists()


def test_creating_an_existing_sku_is_a_conflict(api):
    api.send("post", "/api/v1/products", MUG)
    response = api.send("post", "/api/v1/products", {**MUG, "name": "Other"})
    assert response.status_code == 409
    assert Product.objects.get(sku="MUG-1").name == MUG["name"]


def test_put_replaces_and_patch_changes_only_what_is_sent(api):
    api.send("post", "/api/v1/products", MUG)
    put = api.send("put", "/api/v1/products/MUG-1", {"name": "Plain mug", "price": None})
    assert put.status_code == 200, put.content
    assert put.json()["description"] == "" and put.json()["category"] is None
    assert put.json()["price"] is None and put.json()["currency"] == "USD"

    patch = api.send("patch", "/api/v1/products/MUG-1", {"category": "Home/Mugs", "price": "9"})
    assert patch.status_code == 200
    assert patch.json()["name"] == "Plain mug" and patch.json()["price"] == 9.0
    assert patch.json()["category"] == "Home/Mugs"

    renamed = api.send("patch", "/api/v1/products/MUG-1", {"sku": "MUG-2"})
    assert renamed.status_code == 400 and not Product.objects.filter(sku="MUG-2").exists()
    assert api.send("put", "/api/v1/products/NOPE", MUG).status_code == 404


def test_image_urls_are_downloaded_by_a_task_and_round_trip(
    api, image_host, png_bytes, eager_tasks, django_capture_on_commit_callbacks
):
    base, routes = image_host
    routes["/mug.png"] = (200, {"Content-Type": "image/png"}, png_bytes("blue"))
    with django_capture_on_commit_callbacks(execute=True):
        created = api.send("post", "/api/v1/products", {**MUG, "images": [f"{base}/mug.png"]})
    assert created.status_code == 201
    product = Product.objects.get(sku="MUG-1")
    [photo] = product.images.all()
    assert photo.source_url == f"{base}/mug.png" and photo.file.read() == png_bytes("blue")
    body = api.get("/api/v1/products/MUG-1").json()
    assert body["images"] == [f"{base}/mug.png"]

    # A product whose photo came from a zip shows its media URL; sending it back keeps it.
    runner.run_import(
        job_id=jobs.start_import(
            file=SimpleUploadedFile("c.csv", (HEADER + "ZIP-1,Cup,,,,1,,,cup.png\n").encode()),
            images=SimpleUploadedFile("p.zip", make_zip({"cup.png": png_bytes("red")})),
        ).pk
    )
    cup = api.get("/api/v1/products/ZIP-1").json()
    assert cup["images"][0].startswith("http://testserver/media/products/")
    with django_capture_on_commit_callbacks(execute=True):
        again = api.send("put", "/api/v1/products/ZIP-1", {**cup, "name": "Tea cup"})
    assert again.status_code == 200 and again.json()["images"] == cup["images"]


def test_deleting_a_product_removes_it_from_search_at_once(api):
    api.send("post", "/api/v1/products", MUG)
    api.send("post", "/api/v1/products", {"sku": "SAW-1", "name": "Benchtop bandsaw"})
    embed_products(product_ids=list(Product.objects.values_list("pk", flat=True)))

    def found() -> list[str]:
        response = api.get("/api/v1/search", q="coffee mug", rerank="false")
        return [hit["sku"] for hit in response.json()["results"]]

    assert "MUG-1" in found()
    assert api.send("delete", "/api/v1/products/MUG-1").status_code == 204
    assert "MUG-1" not in found()
    assert api.get("/api/v1/products/MUG-1").status_code == 404
    assert api.send("delete", "/api/v1/products/MUG-1").status_code == 404


def test_the_catalog_api_is_staff_only(client):
    assert client.get("/api/v1/products").status_code == 401
    assert client.post("/api/v1/products", MUG, content_type="application/json").status_code == 401
    shopper = User.objects.create_user("shopper")
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=shopper).key}"}
    assert client.get("/api/v1/products", **auth).status_code == 403
    assert client.delete("/api/v1/products/MUG-1", **auth).status_code == 403


def test_a_product_whose_sku_has_a_slash_is_still_served(api):
    """Imports, the API and the admin refuse such SKUs; one saved before that rule must still
    answer rather than 500."""
    product = Product.objects.create(sku="AB/12", name="Stoneware coffee mug")
    assert api.get("/api/v1/products/AB/12").json()["name"] == "Stoneware coffee mug"
    embed_products(product_ids=[product.id])
    similar = api.get("/api/v1/products/AB/12/similar")
    assert similar.status_code == 200 and similar.json()["sku"] == "AB/12"
    assert api.send("delete", "/api/v1/products/AB/12").status_code == 204


def test_the_admin_refuses_a_sku_with_a_slash_as_imports_do(admin_client):
    response = admin_client.post(
        "/admin/catalog/product/add/",
        {"sku": "AB/12", "name": "Mug", "currency": "USD", "attributes": "{}", "active": "on"},
    )
    assert response.status_code == 200 and "must not contain" in response.content.decode()
    assert not Product.objects.filter(sku="AB/12").exists()
