"""Security of what shoppers and bots can reach: anonymous API search is throttled (in the
Redis cache, 429 + Retry-After, not dodged by a forged X-Forwarded-For), forms need their
CSRF token, uploads are stored under names we generate. (Staff-only writes: see
tests/catalog/test_product_api.py and test_import_api.py; production settings:
tests/config/test_deploy_check.py.)"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle

from catalog import services as catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(monkeypatch):
    # The rates are read from settings once, at import; the class attribute is what counts.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})


def test_anonymous_search_is_throttled_with_429_and_retry_after(
    indexed_catalog, client, three_per_minute
):
    for _ in range(3):
        assert client.get("/api/v1/search", {"q": "mug"}).status_code == 200
    response = client.get("/api/v1/search", {"q": "mug"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()
    # Photo searches and similar products count against the same budget.
    assert client.post("/api/v1/search", {"q": "mug"}).status_code == 429
    assert client.get("/api/v1/products/MUG-1/similar").status_code == 429
    # The history lives in the shared (Redis) cache, so every web process sees it.
    assert len(cache.get("throttle_anon_127.0.0.1")) == 3


def test_a_forged_x_forwarded_for_does_not_reset_the_throttle(
    indexed_catalog, client, three_per_minute
):
    statuses = [
        client.get("/api/v1/search", {"q": "mug"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_staff_callers_are_not_throttled_as_anonymous(indexed_catalog, client, three_per_minute):
    staff = User.objects.create_user("ops", is_staff=True)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=staff).key}"}
    assert all(
        client.get("/api/v1/search", {"q": "mug"}, **auth).status_code == 200 for _ in range(5)
    )


def test_forms_need_their_csrf_token(db, png_bytes):
    browser = Client(enforce_csrf_checks=True)
    photo = SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")
    assert browser.post("/search", {"photo": photo}).status_code == 403
    login = browser.get("/admin/login/")
    assert b"csrfmiddlewaretoken" in login.content
    assert browser.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403


def test_staff_session_writes_through_the_api_need_the_csrf_token(db):
    User.objects.create_user("ops", password="pw", is_staff=True, is_superuser=True)
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="ops", password="pw")
    product = {"sku": "CSRF-1", "name": "Mug"}
    response = browser.post("/api/v1/products", product, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_anonymous_search_posts_need_no_csrf_token_they_change_nothing(indexed_catalog):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/api/v1/search", {"q": "mug"}).status_code == 200


def test_uploads_are_stored_under_generated_names(db, png_bytes):
    product, _ = catalog.upsert_product(sku="UP-1", name="Mug")
    image = catalog.attach_image(
        product=product, content=png_bytes(), filename="../../../etc/evil name;rm -rf.png"
    )
    name = image.file.name
    assert name.startswith("products/") and ".." not in name and "evil" not in name
    assert name.rsplit("/", 1)[-1].split(".")[0] == image.checksum


def test_a_photo_named_like_a_web_page_is_not_served_as_one(db, client, png_bytes):
    product, _ = catalog.upsert_product(sku="UP-2", name="Mug")
    image = catalog.attach_image(product=product, content=png_bytes(), filename="x.html")
    assert image.file.name.endswith(".png")
    served = client.get(image.file.url)
    assert served["Content-Type"] == "image/png"
