"""A merchandiser in a real browser: logged in as staff, they ask why the results of a query
rank as they do and unfold one result's stages; a screenshot is kept under test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from tests.support.browser import log_in
from tests.support.catalogs import load_shop_rows


@pytest.fixture
def shop_with_staff(transactional_db):
    load_shop_rows()
    User.objects.create_user("merch", password="pw-merch-1", is_staff=True)


@pytest.mark.django_db(transaction=True)
def test_staff_unfold_why_a_result_ranked_where_it_did(
    shop_with_staff, live_server, page, artifacts
):
    log_in(
        page,
        f"{live_server.url}/admin/login/?next=/search%3Fq%3Dred%2Brunning%2Bshoes",
        username="merch",
        password="pw-merch-1",
    )
    page.wait_for_url(re.compile(r"/search\?q=red"))
    assert page.locator("details.explain").count() == 0

    page.get_by_role("link", name="Why this ranking?").click()
    page.wait_for_url(re.compile(r"explain=1"))
    first = page.locator("article.result").first
    stages = first.locator(".explain-stages li")
    assert not stages.first.is_visible()  # folded until asked
    first.get_by_text("Why #1?").click()
    lines = stages.all_inner_texts()
    assert lines[0].startswith("Keywords: ") and lines[1].startswith("Meaning: similarity")
    assert lines[2].startswith("Fused (convex): ")
    page.screenshot(path=str(artifacts / "storefront-explain.png"), full_page=True)
