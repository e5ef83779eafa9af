"""What a new shop shows: "No products yet" (to staff, how to add some) rather than "nothing
matched"; and on a text-only model, where the photo upload would be, why there is no photo
search (to staff, how to turn it on), which a model that reads photos does not show."""

from __future__ import annotations

import pytest

PHOTO_OFF = "Search by photo is off in this shop"
HOW_TO = "How to turn photo search on"


def empty_state(html: str) -> str:
    start = html.index('<div class="empty-state')
    return html[start : html.index("</div>", start)]


@pytest.mark.parametrize("mode", ["hybrid", "vector", "lexical"])
def test_a_search_on_an_empty_shop_says_no_products_yet(db, client, mode):
    response = client.get("/search", {"q": "coffee mug", "mode": mode})
    assert response.status_code == 200
    html = response.content.decode()
    state = empty_state(html)
    assert "No products yet" in state
    assert "Nothing matched" not in html
    assert "import_catalog" not in html  # shoppers are not told how to run the shop


def test_staff_are_told_how_to_add_products(db, admin_client):
    for url in ("/", "/search?q=mug"):
        html = admin_client.get(url).content.decode()
        state = empty_state(html)
        assert "No products yet" in state
        assert 'href="/admin/catalog/importjob/upload/"' in state
        assert "manage.py import_catalog" in state
    assert admin_client.get("/admin/catalog/importjob/upload/").status_code == 200


def test_the_home_page_of_an_empty_shop_says_no_products_yet(db, client):
    html = client.get("/").content.decode()
    assert "No products yet" in empty_state(html)


def test_a_search_that_finds_nothing_in_a_stocked_shop_is_not_called_empty(indexed_catalog, client):
    html = client.get("/search", {"q": "qwxzv", "mode": "lexical"}).content.decode()
    assert "Nothing matched" in html and "No products yet" not in html


def test_a_text_only_model_says_why_photo_search_is_off(indexed_catalog, client):
    for url in ("/", "/search"):
        html = client.get(url).content.decode()
        assert 'type="file"' not in html
        assert (
            PHOTO_OFF in html and "(sentence-transformers/all-MiniLM-L6-v2) reads text only" in html
        )
        assert HOW_TO not in html  # the setup is for whoever runs the shop


def test_staff_see_how_to_turn_photo_search_on(indexed_catalog, admin_client):
    html = admin_client.get("/").content.decode()
    assert PHOTO_OFF in html and HOW_TO in html
    assert "VITRINE_EMBEDDER=sentence-transformers/clip-ViT-B-32" in html
    assert "Qwen/Qwen3-VL-Embedding-2B" in html
    assert "manage.py reindex --embedder" in html


def test_development_shows_the_setup_to_everyone(indexed_catalog, client, settings):
    settings.DEBUG = True
    assert HOW_TO in client.get("/").content.decode()


def test_a_photo_model_shows_no_notice_and_offers_the_upload(photo_catalog, admin_client):
    for url in ("/", "/search"):
        html = admin_client.get(url).content.decode()
        assert 'type="file" name="photo"' in html
        assert PHOTO_OFF not in html and HOW_TO not in html


def test_an_empty_shop_asks_the_configured_model_what_it_reads(db, client, settings, tiny_clip):
    """No index yet to say it: a photo model configured for a new shop offers the upload."""
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    html = client.get("/").content.decode()
    assert 'type="file" name="photo"' in html and PHOTO_OFF not in html


def test_an_empty_shop_on_a_text_only_model_says_why_photo_search_is_off(db, client):
    html = client.get("/").content.decode()
    assert 'type="file"' not in html and PHOTO_OFF in html
