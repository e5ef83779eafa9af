"""A small keyword-searchable catalog (no model needed: the searches ask for mode=lexical),
the helpers to search it the way a shopper's browser or an API client does, and a week of
rollups for the dashboard's tests."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from search.indexing.lexical import refresh_lexical
from search.insights import buffer
from tests.support.insights import write_busy_week

TOWELS = [
    ("TWL-1", "Plush cotton bath towel"),
    ("TWL-2", "Quick-dry bath towel"),
    ("TWL-3", "Striped beach towel"),
    ("MUG-1", "Stoneware coffee mug"),
]
# What a browser sends: the address the server sees and a user agent.
SHOPPER = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Mozilla/5.0 (Vitrine test)"}

# The shop's cache (and so the insights buffer) on a Redis that is down.
UNREACHABLE = {
    "default": {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        "KEY_PREFIX": "vitrine",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def towels(db):
    ids = []
    for sku, name in TOWELS:
        product, _ = catalog.upsert_product(sku=sku, name=name, price="9.90")
        ids.append(product.id)
    refresh_lexical(product_ids=ids)
    return ids


@pytest.fixture(autouse=True)
def _clean_recorder():
    """Each test starts with a process that has seen no Redis failure and lost nothing."""
    buffer.forget_failures()
    yield
    buffer.forget_failures()


def api_search(client, **params) -> dict:
    response = client.get("/api/v1/search", {"mode": "lexical", **params}, **SHOPPER)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def busy_week(db):
    """A week of rollups (tests.support.insights.write_busy_week says what is in it)."""
    write_busy_week()
