"""The storefront's "Why this ranking?": a logged-in staff user sees it on demand, a shopper
never does (not even by following a staff user's link)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_user("merch", password="pw", is_staff=True))
    return client


def test_staff_see_a_link_and_then_why_each_result_ranked_where_it_did(shop, staff_client):
    html = staff_client.get("/search", {"q": "red running shoes"}).content.decode()
    link = re.search(r'<a href="([^"]*explain=1[^"]*)">Why this ranking\?</a>', html)
    assert link and '<details class="explain">' not in html

    html = staff_client.get("/search" + link.group(1).replace("&amp;", "&")).content.decode()
    cards = html.count('class="result card"')
    assert cards > 1 and html.count('<details class="explain">') == cards
    assert "Why #1?" in html and f"Why #{cards}?" in html
    stages = re.findall(r'data-stage="(\w+)"', html)
    assert stages[:3] == ["keyword", "vector", "fusion"]
    assert "matched red (attributes), run (name)" in html
    assert "Hide why each result ranked here" in html


def test_staff_keep_the_explanation_while_refining(shop, staff_client):
    html = staff_client.get("/search", {"q": "shoes", "explain": "1"}).content.decode()
    assert '<input type="hidden" name="explain" value="1">' in html  # the filters form
    assert re.search(r'href="\?q=shoes&amp;price=[\d-]+&amp;explain=1"', html)  # price links
    assert '<details class="explain">' in html


def test_a_shopper_never_sees_explanations(shop, client):
    for params in ({"q": "red running shoes"}, {"q": "red running shoes", "explain": "1"}):
        response = client.get("/search", params)
        html = response.content.decode()
        assert response.status_code == 200 and 'data-sku="SNK-100"' in html
        assert '<details class="explain">' not in html and "data-stage" not in html
        assert "Why this ranking?" not in html


def test_a_logged_in_shopper_who_is_not_staff_does_not_either(shop, client):
    client.force_login(User.objects.create_user("shopper", password="pw"))
    html = client.get("/search", {"q": "shoes", "explain": "1"}).content.decode()
    assert 'data-sku="' in html and "data-stage" not in html and "Why this ranking?" not in html
