"""Searching by photo through the API: upload, URL and base64; hostile photos get a clear
4xx, fast; a text-only model says it cannot read photos."""

from __future__ import annotations

import base64
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def upload(content: bytes, name: str = "q.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def test_uploaded_photo_finds_the_product_with_that_photo(photo_catalog, client, png_bytes):
    response = client.post("/api/v1/search", {"image": upload(png_bytes("green", (48, 48)))})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["results"][0]["sku"] == "GRN-1"
    assert body["model"]["modalities"] == ["image", "text"]


def test_photo_and_text_together_are_accepted(photo_catalog, client, png_bytes):
    response = client.post(
        "/api/v1/search", {"image": upload(png_bytes("blue", (48, 48))), "q": "t-shirt"}
    )
    assert response.status_code == 200 and response.json()["query"] == "t-shirt"


def test_base64_photo_in_json(photo_catalog, client, png_bytes):
    data = base64.b64encode(png_bytes("yellow", (48, 48))).decode()
    for value in (data, "data:image/png;base64," + data):
        response = client.post(
            "/api/v1/search", {"image_base64": value}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["results"][0]["sku"] == "YEL-1"


def test_image_url_is_fetched_and_searched(photo_catalog, client, png_bytes, image_host):
    base, routes = image_host
    routes["/red.png"] = (200, {"Content-Type": "image/png"}, png_bytes("red", (48, 48)))
    response = client.post(
        "/api/v1/search", {"image_url": f"{base}/red.png"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["sku"] == "RED-1"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ((200, {"Content-Type": "text/html"}, b"<html>"), "not an image"),
        ((404, {}, b""), "answered 404"),
        ((302, {"Location": "http://127.0.0.2/x.png"}, b""), "not a public address"),
        (
            (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""),
            "not a public address",
        ),
    ],
)
def test_bad_image_urls_are_refused_with_the_reason(
    photo_catalog, client, image_host, route, reason
):
    base, routes = image_host
    routes["/x"] = route
    response = client.post(
        "/api/v1/search", {"image_url": f"{base}/x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert reason in response.json()["image"][0]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://localhost/x.png",
        "http://10.1.2.3/x.png",
        "http://192.168.0.1/x.png",
        "http://[::1]/x.png",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "ftp://example.com/x.png",
    ],
)
def test_private_and_odd_urls_are_refused_before_any_connection(photo_catalog, client, url):
    response = client.post("/api/v1/search", {"image_url": url}, content_type="application/json")
    assert response.status_code == 400


def _bomb_png() -> bytes:
    """30,000 x 30,000 pixels of one colour: a few hundred KB that would decode to 2.7 GB."""
    buf = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _truncated_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), "red").save(buf, format="JPEG")
    return buf.getvalue()[:400]


@pytest.mark.parametrize(
    ("content", "status", "reason"),
    [
        (b"%PDF-1.4 not a photo", 400, "not an image"),
        (b"", 400, "empty"),
        (_truncated_jpeg(), 400, "damaged or truncated"),
        (_bomb_png(), 413, "pixels"),
    ],
)
def test_hostile_photos_get_a_clear_4xx_quickly(photo_catalog, client, content, status, reason):
    started = time.monotonic()
    response = client.post("/api/v1/search", {"image": upload(content)})
    assert response.status_code == status, response.content
    assert reason in str(response.json())
    assert time.monotonic() - started < 5


def test_oversized_upload_is_413(photo_catalog, client, settings, png_bytes):
    settings.VITRINE_MAX_PHOTO_BYTES = 1000
    response = client.post(
        "/api/v1/search", {"image": upload(png_bytes("red", (400, 400)) + b"\0" * 2000)}
    )
    assert response.status_code == 413


def test_two_photo_sources_or_none_at_all_are_400(photo_catalog, client, png_bytes):
    both = client.post(
        "/api/v1/search",
        {
            "image_base64": base64.b64encode(png_bytes()).decode(),
            "image_url": "http://example.com/a.png",
        },
        content_type="application/json",
    )
    assert both.status_code == 400
    assert client.post("/api/v1/search", {}, content_type="application/json").status_code == 400


def test_text_only_model_refuses_a_photo_query_and_says_why(indexed_catalog, client, png_bytes):
    response = client.post("/api/v1/search", {"image": upload(png_bytes())})
    assert response.status_code == 400
    assert "cannot search by photo" in response.json()["detail"]


def test_similar_products_exclude_the_product_itself(indexed_catalog, client):
    response = client.get("/api/v1/products/TWL-1/similar", {"limit": 3})
    assert response.status_code == 200
    skus = [hit["sku"] for hit in response.json()["results"]]
    assert len(skus) == 3 and "TWL-1" not in skus and skus[0] == "TWL-2"
    assert client.get("/api/v1/products/NOPE/similar").status_code == 404
    assert client.get("/api/v1/products/TWL-1/similar", {"limit": "x"}).status_code == 400
