"""Web processes without models: the query is encoded by a worker on the `query` queue."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from catalog.models import Product
from search import results_cache
from search.inference import loading
from search.query import SearchRequest
from search.services import search_products

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_remote_query_encoding_ranks_like_local_encoding(celery_worker, settings, monkeypatch):
    Product.objects.bulk_create(
        [Product(sku=f"T-{i}", name=f"Cotton bath towel {i}") for i in range(4)]
        + [Product(sku=f"S-{i}", name=f"Steel band saw {i}") for i in range(4)]
    )
    call_command("reindex", "--timeout", "120", stdout=io.StringIO())
    local = search_products(SearchRequest(query="fluffy towel", mode="vector", page_size=8))

    settings.VITRINE_REMOTE_INFERENCE = True
    monkeypatch.setattr(results_cache, "RESULTS_CACHE_S", 0)
    loaded_before = dict(loading._embedders)
    remote = search_products(SearchRequest(query="something to saw wood", mode="vector"))
    again = search_products(SearchRequest(query="fluffy towel", mode="vector", page_size=8))

    assert remote.results[0].sku.startswith("S-")
    assert [h.sku for h in again.results] == [h.sku for h in local.results]
    assert [h.retrieval_score for h in again.results] == pytest.approx(
        [h.retrieval_score for h in local.results], abs=2e-3
    )
    assert loading._embedders == loaded_before  # no model was loaded here for it
