"""The admin: synonyms and rules written there act on the next search; the rule editor's
preview shows the storefront's results with the rule as written, before it is saved."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from search.merchandising.models import MerchandisingRule, SynonymSet
from search.merchandising.rule_writes import save_rule
from search.query import SearchRequest
from search.services import search_products


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def preview_skus(html: str) -> list[str]:
    return re.findall(r'class="preview-card" data-sku="([^"]+)"', html)


RULE_FORM = {
    "name": "Mugs for gifts", "enabled": "on", "match": "exact", "query": "sneakers",
    "pins_text": "MUG-050 1", "hides": "", "boosts_text": "", "redirect": "",
    "starts_at_0": "", "starts_at_1": "", "ends_at_0": "", "ends_at_1": "",
}  # fmt: skip


def test_the_preview_shows_the_pinned_product_first_before_the_rule_is_saved(admin_client, shop):
    response = admin_client.post("/merchandising/preview", RULE_FORM)
    assert response.status_code == 200
    shown = preview_skus(response.content.decode())
    assert shown[0] == "MUG-050" and "SNK-100" in shown
    assert "pinned" in response.content.decode()
    assert not MerchandisingRule.objects.exists()
    assert "MUG-050" not in [
        h.sku for h in search_products(SearchRequest(query="sneakers")).results
    ]


def test_the_preview_of_an_edited_rule_shows_the_edit_not_the_saved_rule(admin_client, shop):
    rule = save_rule(data={"query": "sneakers", "pin": [{"sku": "TWL-010", "position": 1}]})
    response = admin_client.post(f"/merchandising/preview?rule={rule.pk}", RULE_FORM)
    shown = preview_skus(response.content.decode())
    assert shown[0] == "MUG-050" and "TWL-010" not in shown


def test_the_preview_says_what_is_wrong_with_the_rule(admin_client, shop):
    response = admin_client.post("/merchandising/preview", {**RULE_FORM, "pins_text": "NOPE 1"})
    assert "no product has the SKU" in response.content.decode()


def test_the_preview_is_for_staff_only(client, shop):
    assert client.post("/merchandising/preview", RULE_FORM).status_code == 302  # to the login


def test_a_rule_saved_in_the_admin_acts_on_the_next_search(admin_client, shop):
    response = admin_client.post("/admin/search/merchandisingrule/add/", RULE_FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = MerchandisingRule.objects.get()
    assert rule.pins == [{"sku": "MUG-050", "position": 1}]
    assert search_products(SearchRequest(query="sneakers")).results[0].sku == "MUG-050"
    page = admin_client.get(f"/admin/search/merchandisingrule/{rule.pk}/change/")
    assert "MUG-050 1" in page.content.decode() and "rule-preview-frame" in page.content.decode()
    assert (
        "Mugs for gifts"
        in admin_client.get("/admin/search/merchandisingrule/?live=yes").content.decode()
    )


def test_a_bad_rule_in_the_admin_is_refused_on_its_field(admin_client, shop):
    response = admin_client.post(
        "/admin/search/merchandisingrule/add/", {**RULE_FORM, "boosts_text": "brand Stride 7"}
    )
    assert response.status_code == 200 and "a factor is from 0.5" in response.content.decode()
    assert not MerchandisingRule.objects.exists()


def test_synonyms_in_the_admin_and_their_csv_import(admin_client, shop):
    added = admin_client.post(
        "/admin/search/synonymset/add/", {"source": "", "terms": "sneakers, boots"}
    )
    assert added.status_code == 302
    assert SynonymSet.objects.get().terms == ["sneakers", "boots"]
    refused = admin_client.post("/admin/search/synonymset/add/", {"source": "", "terms": "alone"})
    assert "one term" in refused.content.decode()
    upload = SimpleUploadedFile("s.csv", b'from,terms\niphone case,"phone case"\n')
    imported = admin_client.post("/admin/search/synonymset/import/", {"file": upload})
    assert imported.status_code == 302 and SynonymSet.objects.count() == 2
    exported = admin_client.post(
        "/admin/search/synonymset/",
        {"action": "export_csv", "_selected_action": [s.pk for s in SynonymSet.objects.all()]},
    )
    assert exported.content.decode().splitlines() == [
        "from,terms",
        ',"sneakers, boots"',
        "iphone case,phone case",
    ]
