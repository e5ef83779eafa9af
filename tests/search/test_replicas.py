"""A search replica that does not answer (DATABASE_REPLICA_URLS naming a host that is down)
costs the shopper nothing: the primary answers, /healthz names the replica and its error,
and the shop's verdict does not change. The real standby's tests are in
tests/integration/test_read_replicas.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connections

from search.replicas import forget_replica_states, replica_state

ALIAS = "replica_0"


@pytest.fixture
def dead_replica(settings, tmp_path) -> Iterator[str]:
    """A replica alias whose server is not there: its socket dir holds no socket."""
    connections[ALIAS] = connections["default"].__class__(
        {**connections["default"].settings_dict, "HOST": str(tmp_path), "CONN_MAX_AGE": 0},
        ALIAS,
    )
    settings.SEARCH_READ_REPLICAS = [ALIAS]
    forget_replica_states()
    try:
        yield ALIAS
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        forget_replica_states()


def test_a_replica_that_is_down_leaves_searches_to_the_primary_and_healthz_names_it(
    indexed_catalog, client, settings, dead_replica
):
    settings.SEARCH_READ_REPLICAS = []
    without = client.get("/api/v1/search", {"q": "bath towel"})
    verdict = client.get("/healthz")
    assert "replicas" not in verdict.json()

    settings.SEARCH_READ_REPLICAS = [dead_replica]
    cache.clear()  # the same search, ranked again
    response = client.get("/api/v1/search", {"q": "bath towel"})
    assert response.status_code == 200
    assert [r["sku"] for r in response.json()["results"]] == [
        r["sku"] for r in without.json()["results"]
    ]
    assert not replica_state(dead_replica).ok

    health = client.get("/healthz")
    assert health.status_code == verdict.status_code  # a replica never decides it
    replica = health.json()["replicas"][dead_replica]
    assert replica["ok"] is False and replica["serving"] is False
    assert "OperationalError" in replica["error"]
