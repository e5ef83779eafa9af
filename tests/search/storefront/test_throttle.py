"""The storefront's search page is rate-limited per client like the API: over
VITRINE_STOREFRONT_THROTTLE a shopper gets a friendly 429 page with Retry-After, whether
searching by words (GET) or by photo (POST); another client and staff are not held back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(settings):
    settings.VITRINE_STOREFRONT_THROTTLE = "3/min"


def test_a_client_over_the_rate_gets_a_friendly_429_page_with_retry_after(
    indexed_catalog, client, three_per_minute
):
    for _ in range(3):
        assert client.get("/search", {"q": "mug"}).status_code == 200
    response = client.get("/search", {"q": "mug"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "One moment, please" in page and f"try again in {response['Retry-After']} second" in page
    assert 'class="site-header"' in page  # the shop's own page, not a bare error
    # A photo search (POST) counts against the same budget.
    assert client.post("/search", {"q": "mug"}).status_code == 429


def test_other_clients_and_staff_are_not_held_back(indexed_catalog, client, three_per_minute):
    for _ in range(4):
        client.get("/search", {"q": "mug"}, REMOTE_ADDR="10.1.1.1")
    assert client.get("/search", {"q": "mug"}, REMOTE_ADDR="10.1.1.1").status_code == 429
    assert client.get("/search", {"q": "mug"}, REMOTE_ADDR="10.2.2.2").status_code == 200
    # A forged X-Forwarded-For does not make a new client (VITRINE_NUM_PROXIES is 0).
    forged = client.get(
        "/search", {"q": "mug"}, REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="9.9.9.9"
    )
    assert forged.status_code == 429
    client.force_login(User.objects.create_user("ops", is_staff=True))
    assert all(
        client.get("/search", {"q": "mug"}, REMOTE_ADDR="10.1.1.1").status_code == 200
        for _ in range(5)
    )


def test_an_empty_rate_turns_the_limit_off(indexed_catalog, client, settings):
    settings.VITRINE_STOREFRONT_THROTTLE = ""
    assert all(client.get("/search", {"q": "mug"}).status_code == 200 for _ in range(6))
