"""A web process's start: its models loaded and one search run through the search path
before it accepts a request, so the first shopper after a (re)start waits no longer than
the next (the models' first forward pass, the first statements' planning and the code's
first imports would otherwise all land on that shopper). `make run` reports ready only once
its web process is listening, so after this."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection

from search.indexing.indexes import active_index
from search.inference.loading import warm_up
from search.query import SearchRequest
from search.retrieval.vector import sampled_vectors, vector_candidates
from search.services import MAX_CANDIDATES, search_products

logger = logging.getLogger(__name__)

# What the start-up search asks: words any catalog may hold, none a shopper's.
WARM_UP_QUERY = "warm up search"
# How many of the catalog's own products the start walks the HNSW graph from (warm_up_graph).
GRAPH_WALKS = 24


def warm_up_web_process() -> None:
    """Load the models (search.inference.loading.warm_up) and run one search, hybrid where
    this process encodes queries itself (with remote inference a keyword search: the GPU
    workers may not be up yet). Failures are only logged: the process starts either way.
    Off with VITRINE_WEB_PRELOAD_MODELS=0."""
    if not settings.VITRINE_WEB_PRELOAD_MODELS:
        return
    warm_up()
    warm_up_graph()
    mode = "lexical" if settings.VITRINE_REMOTE_INFERENCE else "hybrid"
    try:
        search_products(SearchRequest(query=WARM_UP_QUERY, mode=mode))
    except Exception:
        logger.warning("start-up search failed; the first search warms up", exc_info=True)
        connection.close()
    # Otherwise, under gunicorn's sync workers, the connection stays open for the requests
    # (closed by Django once older than VITRINE_DB_CONN_MAX_AGE): a new PostgreSQL backend
    # plans its first statements with cold catalog caches, tens of milliseconds the first
    # shopper would wait. So never start the web with gunicorn's --preload: its workers would
    # share this connection. (`make run`'s development server gives each request a thread and
    # a connection of its own, closed after it: there only the buffers and models carry over.)


def warm_up_graph() -> None:
    """Walk the active index's HNSW graph from a few of its own products, as a search does,
    so the pages searches read are in PostgreSQL's buffers before the first shopper's: when
    the database starts with the web (`make run`), every page comes from the disk or the
    OS's cache at first, and the first searches took ~2x a warm one at 100k products
    (docs/BENCHMARKS.md, cold start). The products are a random sample of table blocks;
    with the buffers already warm the walks cost a few milliseconds each."""
    try:
        index = active_index()
        if index is None:
            return
        for vector in sampled_vectors(index=index, count=GRAPH_WALKS):
            vector_candidates(index=index, query_vector=vector, limit=MAX_CANDIDATES)
    except Exception:
        logger.warning("graph warm-up failed; the first searches warm it", exc_info=True)
        connection.close()
