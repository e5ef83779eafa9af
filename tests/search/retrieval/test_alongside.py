"""A hybrid search runs its keyword leg on a thread of its own while the vector leg runs
(search.retrieval.alongside): the shopper gets the same results as with the legs one after
the other, and inside a transaction (whose rows no other connection sees) it stays in line."""

from __future__ import annotations

import threading

import pytest

from catalog import services as catalog
from search import results_cache, services
from search.indexing.embedding import embed_products
from search.indexing.lexical import refresh_lexeme_stats
from search.query import SearchRequest
from tests.search.conftest import SMALL_CATALOG


@pytest.fixture
def keyword_leg_threads(monkeypatch):
    """The names of the threads the keyword leg ran on."""
    names: list[str] = []
    real = services.lexical_candidates

    def recorded(**kwargs):
        names.append(threading.current_thread().name)
        return real(**kwargs)

    monkeypatch.setattr(services, "lexical_candidates", recorded)
    return names


def ranked(query: str) -> tuple[list[int], int]:
    found = services.search_products(SearchRequest(query=query, mode="hybrid"))
    return [hit.product_id for hit in found.results], found.count


@pytest.mark.django_db(transaction=True)
def test_a_hybrid_search_finds_the_same_with_its_legs_side_by_side(
    settings, keyword_leg_threads, monkeypatch, no_embedding_queue
):
    ids = []
    for sku, name, category, description in SMALL_CATALOG:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, description=description, category=category, price="12.50"
        )
        ids.append(product.id)
    embed_products(product_ids=ids)
    refresh_lexeme_stats()
    monkeypatch.setattr(results_cache, "RESULTS_CACHE_S", 0)  # every search ranks
    for query in ("ceramic mug", "running shoes", "lamp for the desk"):
        settings.SEARCH_PARALLEL_LEGS = False
        in_line = ranked(query)
        settings.SEARCH_PARALLEL_LEGS = True
        assert ranked(query) == in_line
        assert in_line[0]
    assert any(name.startswith("vitrine-keyword-leg") for name in keyword_leg_threads)
    assert threading.current_thread().name in keyword_leg_threads  # (the in-line runs)


@pytest.mark.django_db(transaction=True)
def test_the_keyword_leg_alongside_reads_the_database_its_search_reads(settings):
    """The replica a search chose (search.replicas) travels with its keyword leg."""
    from search import replicas
    from search.retrieval.alongside import start_alongside

    settings.SEARCH_PARALLEL_LEGS = True
    # As @reads_on_replica sets it (unset, the leg would read the primary: None here).
    token = replicas._search_alias.set("default")
    try:
        seen = start_alongside(
            lambda: (threading.current_thread().name, replicas._search_alias.get())
        )()
    finally:
        replicas._search_alias.reset(token)
    thread, alias = seen
    assert thread.startswith("vitrine-keyword-leg") and alias == "default"
    assert replicas._search_alias.get() is None  # and nothing leaked into this thread


def test_inside_a_transaction_the_keyword_leg_runs_in_line(
    indexed_catalog, settings, keyword_leg_threads
):
    settings.SEARCH_PARALLEL_LEGS = True
    ids, count = ranked("ceramic mug")
    assert ids and count
    assert keyword_leg_threads == [threading.current_thread().name]
