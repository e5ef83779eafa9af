"""A web process loads its models and runs one search before it accepts a request
(search.warmup, called by config.wsgi): the first shopper after a start must not wait for
a model to load."""

from __future__ import annotations

import pytest

from search.inference import loading
from search.query import SearchRequest
from search.services import search_products
from search.warmup import warm_up_web_process


@pytest.fixture(autouse=True)
def loaded_models_kept():
    """The tests empty this process's models, as a fresh process's; the others get theirs
    back after."""
    kept = dict(loading._embedders)
    yield
    loading._embedders.clear()
    loading._embedders.update(kept)


def test_a_started_web_process_holds_the_active_model_before_its_first_search(
    indexed_catalog, settings
):
    settings.VITRINE_WEB_PRELOAD_MODELS = True
    loading._embedders.clear()  # a process just started: nothing loaded
    warm_up_web_process()
    loaded = len(loading._embedders)
    assert loaded == 1
    found = search_products(SearchRequest(query="mug", mode="hybrid"))
    assert found.count and len(loading._embedders) == loaded  # nothing loaded on the way


def test_a_web_process_told_not_to_preload_starts_without_a_model(indexed_catalog, settings):
    settings.VITRINE_WEB_PRELOAD_MODELS = False
    loading._embedders.clear()
    warm_up_web_process()
    assert not loading._embedders


def test_a_start_with_the_database_down_still_starts(settings, caplog):
    """No database yet (the process started first): logged, and the process starts."""
    settings.VITRINE_WEB_PRELOAD_MODELS = True
    warm_up_web_process()  # no `db` fixture: every query is refused here
    assert "first" in caplog.text


def test_a_started_web_process_walks_the_graph_from_the_catalogs_own_products(indexed_catalog):
    """The pages searches read come into PostgreSQL's buffers before the first shopper's
    search: walks from products of the catalog, as a search walks."""
    from django.db import connection

    from search.warmup import GRAPH_WALKS, warm_up_graph

    walks: list[str] = []

    def catch(execute, sql, params, many, context):
        if "nearest" in str(sql):
            walks.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        warm_up_graph()
    assert 0 < len(walks) <= GRAPH_WALKS
    assert len(walks) == min(GRAPH_WALKS, len(indexed_catalog))


def test_a_shop_without_an_index_starts_without_walking(db):
    from search.warmup import warm_up_graph

    warm_up_graph()  # no index yet: nothing to walk, nothing raised
