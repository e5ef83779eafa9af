"""A merchandiser in a real browser: a synonym written in the admin changes the storefront's
next search; a rule pinning a product, previewed in its editor and saved, puts that product
first on the storefront. Screenshots under test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from catalog import services as catalog
from search.indexing.embedding import embed_products
from tests.support.browser import log_in
from tests.support.catalogs import load_shop_rows


@pytest.fixture
def shop_with_staff(transactional_db):
    load_shop_rows()
    product, _ = catalog.upsert_product(
        sku="TRN-1", name="Leather trainers", brand="Courtside", category="Footwear/Trainers",
        price="70.00", description="Low-top court shoes.",
    )  # fmt: skip
    embed_products(product_ids=[product.id])
    User.objects.create_user("merch", password="pw-merch-1", is_staff=True, is_superuser=True)


def log_in_as_merch(page, live_server) -> None:
    log_in(
        page,
        f"{live_server.url}/admin/login/?next=/admin/",
        username="merch",
        password="pw-merch-1",
    )
    page.wait_for_url(re.compile(r"/admin/$"))


def result_skus(page) -> list[str]:
    return page.locator("article.result").evaluate_all("els => els.map(e => e.dataset.sku)")


@pytest.mark.django_db(transaction=True)
def test_a_synonym_made_in_the_admin_changes_the_next_storefront_search(
    shop_with_staff, live_server, page, artifacts
):
    page.goto(f"{live_server.url}/search?q=sneakers&mode=lexical")
    assert "TRN-1" not in result_skus(page)
    log_in_as_merch(page, live_server)
    page.goto(f"{live_server.url}/admin/search/synonymset/add/")
    page.get_by_label("Terms").fill("sneakers, trainers")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/search/synonymset/$"))
    assert page.get_by_text("sneakers, trainers").count()
    page.goto(f"{live_server.url}/search?q=sneakers&mode=lexical")
    assert "TRN-1" in result_skus(page)
    page.screenshot(path=str(artifacts / "storefront-synonym.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_pin_previewed_and_saved_in_the_admin_shows_first_on_the_storefront(
    shop_with_staff, live_server, page, artifacts
):
    page.goto(f"{live_server.url}/search?q=sneakers")
    assert result_skus(page)[0] != "MUG-050"
    log_in_as_merch(page, live_server)
    page.goto(f"{live_server.url}/admin/search/merchandisingrule/add/")
    page.locator("#id_name").fill("Mugs for sneaker fans")
    page.locator("#id_query").fill("sneakers")
    page.locator("#id_pins_text").fill("MUG-050 1")
    page.get_by_role("button", name="Preview").click()
    frame = page.frame_locator('iframe[name="rule-preview-frame"]')
    first = frame.locator(".preview-card").first
    first.wait_for()
    assert first.get_attribute("data-sku") == "MUG-050"
    page.screenshot(path=str(artifacts / "admin-rule-preview.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/search/merchandisingrule/$"))
    page.goto(f"{live_server.url}/search?q=sneakers")
    assert result_skus(page)[0] == "MUG-050"
    page.screenshot(path=str(artifacts / "storefront-pinned.png"), full_page=True)
