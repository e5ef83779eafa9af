"""The storefront's photo search: upload (POST) -> redirect -> a results page that can be paged
while the photo is kept; refused photos, broken and expired links; a text-only model says it
cannot search by photo. And the product page's similar products."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services as catalog
from search.storefront.page import PHOTO_EXPIRED

PHOTO_URL = re.compile(r"^/search\?photo=([0-9a-f]{32})(&|$)")


def upload(content: bytes, name: str = "q.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def skus(html: str) -> list[str]:
    return re.findall(r'<article class="result card" data-sku="([^"]+)"', html)


def post_photo(client, content: bytes, q: str = ""):
    return client.post("/search", {"photo": upload(content), "q": q})


def test_photo_upload_redirects_to_its_results(photo_catalog, client, png_bytes):
    response = post_photo(client, png_bytes("green", (48, 48)))
    assert response.status_code == 303
    match = PHOTO_URL.match(response["Location"])
    assert match, response["Location"]
    key = match.group(1)

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert skus(html)[0] == "GRN-1"
    assert "Results for your photo" in html
    thumb = f"/search/photo/{key}.jpg"
    assert f'src="{thumb}"' in html

    image = client.get(thumb)
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert image.content[:3] == b"\xff\xd8\xff"


def test_photo_and_words_go_together(photo_catalog, client, png_bytes):
    response = post_photo(client, png_bytes("blue", (48, 48)), q="  cotton   t-shirt ")
    assert response.status_code == 303
    assert response["Location"].endswith("&q=cotton+t-shirt")
    html = client.get(response["Location"]).content.decode()
    assert "Results for your photo and “cotton t-shirt”" in html


def test_pages_keep_the_photo(photo_catalog, client, settings, png_bytes):
    settings.SEARCH_PAGE_SIZE = 2
    # With the words every product counts (they are all t-shirts): two pages of two.
    location = post_photo(client, png_bytes("red", (48, 48)), q="t-shirt")["Location"]
    key = PHOTO_URL.match(location).group(1)
    first = client.get(location).content.decode()
    assert skus(first)[0] == "RED-1" and len(skus(first)) == 2

    link = f'href="?photo={key}&amp;q=t-shirt&amp;page=2"'
    assert link in first
    second = client.get("/search", {"photo": key, "q": "t-shirt", "page": 2})
    assert second.status_code == 200
    html = second.content.decode()
    assert len(skus(html)) == 2 and not set(skus(html)) & set(skus(first))
    assert f'href="?photo={key}&amp;q=t-shirt&amp;page=1"' in html


def test_the_form_offers_a_photo_upload_when_the_model_reads_photos(photo_catalog, client):
    for url in ("/", "/search"):
        html = client.get(url).content.decode()
        assert 'enctype="multipart/form-data"' in html
        assert 'type="file" name="photo" accept="image/*"' in html
        assert 'name="csrfmiddlewaretoken"' in html


def test_refining_the_words_keeps_the_photo(photo_catalog, client, png_bytes):
    key = PHOTO_URL.match(post_photo(client, png_bytes("yellow", (48, 48)))["Location"]).group(1)
    html = client.get("/search", {"photo": key}).content.decode()
    assert f'name="photo_key" value="{key}"' in html  # the header form carries it
    response = client.post("/search", {"q": "t-shirt", "photo_key": key})
    assert response.status_code == 303
    assert response["Location"] == f"/search?photo={key}&q=t-shirt"


def test_text_only_post_redirects_to_the_text_search(photo_catalog, client):
    response = client.post("/search", {"q": "red shirt"})
    assert response.status_code == 303 and response["Location"] == "/search?q=red+shirt"
    assert client.post("/search", {})["Location"] == "/search"


@pytest.mark.parametrize(
    ("content", "status", "reason"),
    [
        (b"%PDF-1.4 not a photo", 400, "not an image"),
        (b"", 400, "empty"),
    ],
)
def test_refused_photo_shows_the_reason(photo_catalog, client, content, status, reason):
    response = post_photo(client, content, q="shirt")
    assert response.status_code == status
    html = response.content.decode()
    assert "We could not use that photo" in html and reason in html
    assert 'name="q" value="shirt"' in html  # the words are not lost


def test_oversized_photo_is_413(photo_catalog, client, settings, png_bytes):
    settings.VITRINE_MAX_PHOTO_BYTES = 1000
    response = post_photo(client, png_bytes("red", (400, 400)) + b"\0" * 2000)
    assert response.status_code == 413
    assert "larger than" in response.content.decode()


@pytest.mark.parametrize("key", ["nothex", "A" * 32, "0" * 31, "0" * 33, "../../etc/passwd"])
def test_bogus_photo_key_is_400(photo_catalog, client, key):
    response = client.get("/search", {"photo": key})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_unknown_or_expired_photo_key_says_so(photo_catalog, client):
    key = uuid.uuid4().hex
    response = client.get("/search", {"photo": key, "q": "shirt"})
    assert response.status_code == 410
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert PHOTO_EXPIRED in html and "That photo search has expired" in html
    assert 'type="file" name="photo"' in html  # with the form to upload it again
    assert client.get(f"/search/photo/{key}.jpg").status_code == 404
    assert client.get("/search/photo/nothex.jpg").status_code == 404


def test_text_only_model_cannot_search_by_photo(indexed_catalog, client, png_bytes):
    html = client.get("/").content.decode()
    assert 'type="file"' not in html and 'method="get"' in html  # no upload offered

    response = client.post("/search", {"photo": upload(png_bytes()), "q": "mug"}, follow=True)
    assert response.status_code == 400
    html = response.content.decode()
    assert "cannot search by photo" in html
    assert 'href="/search?q=mug"' in html  # the way on without the photo


def test_product_page_lists_similar_products(indexed_catalog, client):
    html = client.get("/products/TWL-1/").content.decode()
    similar = re.findall(r'<article class="similar-product card" data-sku="([^"]+)"', html)
    assert "Similar products" in html
    assert similar and len(similar) <= 8
    assert "TWL-1" not in similar and similar[0] == "TWL-2"


def test_product_page_without_an_index_shows_no_similar_section(db, client):
    catalog.upsert_product(sku="SOLO-1", name="Lonely lamp", price="5")
    response = client.get("/products/SOLO-1/")
    assert response.status_code == 200
    assert "Similar products" not in response.content.decode()
