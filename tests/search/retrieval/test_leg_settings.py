"""The legs send their PostgreSQL settings with the query in one message: the settings must
still last for that statement only (pooled connections stay clean), and the fallback for
server-side binding must answer the same."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog import services as catalog
from search import receivers
from search.indexing.lexical import refresh_lexical
from search.retrieval import lexical, statement


def current(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_settings_sent_with_the_query_do_not_outlive_it(settings, monkeypatch):
    # Committed saves enqueue embedding; this test needs no vectors, and the session worker's
    # CREATE INDEX would race the TRUNCATE that ends a transactional test (a deadlock in CI).
    monkeypatch.setattr(receivers, "enqueue_embedding", lambda *args, **kwargs: None)
    ids = [catalog.upsert_product(sku="T-1", name="Trail sneakers")[0].id]
    refresh_lexical(product_ids=ids)
    monkeypatch.setattr(lexical, "TRIGRAM_THRESHOLD", 0.42)
    before = current("pg_trgm.word_similarity_threshold")

    assert [c.product_id for c in lexical.lexical_candidates(query="sneakrs", limit=5)] == ids
    assert connection.get_autocommit()  # no transaction of ours kept the setting alive
    assert current("pg_trgm.word_similarity_threshold") == before != "0.42"


@pytest.mark.django_db
def test_server_side_binding_fallback_answers_the_same(monkeypatch):
    ids = [catalog.upsert_product(sku=f"B-{i}", name=f"Blue shirt {i}")[0].id for i in range(3)]
    refresh_lexical(product_ids=ids)
    one_message = lexical.lexical_candidates(query="blue shirt", limit=5)

    class NoClientCursor:  # nothing is an instance: take the BEGIN / set_config / query path
        pass

    monkeypatch.setattr(statement.psycopg, "ClientCursor", NoClientCursor)
    fallback = lexical.lexical_candidates(query="blue shirt", limit=5)
    assert [(c.product_id, c.retrieval_score) for c in fallback] == [
        (c.product_id, c.retrieval_score) for c in one_message
    ]


@pytest.mark.django_db
def test_hybrid_and_vector_search_scan_the_graph_with_their_own_list_length(
    indexed_catalog, settings
):
    """Hybrid search scores keyword matches by their stored vectors, so its vector leg reads
    a shorter HNSW list (VITRINE_HNSW_EF_SEARCH_HYBRID) than vector-only search, whose
    ranking is the ANN list alone (VITRINE_HNSW_EF_SEARCH)."""
    from search.query import SearchRequest
    from search.services import search_products

    settings.SEARCH_HNSW_EF_SEARCH = 321
    settings.SEARCH_HNSW_EF_SEARCH_HYBRID = 123
    sent: list[dict] = []

    def catch(execute, sql, params, many, context):
        if isinstance(params, dict) and "nearest" in str(sql):
            sent.append(params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        search_products(SearchRequest(query="towel for the bath", mode="hybrid"))
        hybrid = list(sent)
        sent.clear()
        search_products(SearchRequest(query="a towel for the bathroom", mode="vector"))
    assert [p["_guc0"] for p in hybrid] == ["123"]
    assert [p["_guc0"] for p in sent] == ["321"]
