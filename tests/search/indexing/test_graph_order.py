"""A whole catalog's vectors reach the HNSW graph mixed, not in the order the products were
created: a part of the catalog inserted before a much larger part loses the graph's links into
it (search.indexing.queue.graph_order). Tasks run eagerly here, with the real model."""

from __future__ import annotations

import pytest

from catalog.models import Product
from search.indexing.queue import enqueue_embedding, graph_order
from search.models import ProductEmbedding

pytestmark = pytest.mark.django_db


def _products(n: int, prefix: str, name: str) -> list[int]:
    rows = [Product(sku=f"{prefix}-{i}", name=f"{name} {i}") for i in range(n)]
    return [p.id for p in Product.objects.bulk_create(rows)]  # no signals: nothing enqueued


def test_graph_order_is_every_product_once_the_same_every_time_and_not_id_order():
    ids = list(range(1, 201))
    order = graph_order(reversed(ids))
    assert sorted(order) == ids
    assert graph_order(ids + ids[:50]) == order  # duplicates dropped, input order irrelevant
    assert order != ids
    # Consecutive ids (one import, one category) are spread over the whole order.
    first_block = set(ids[:50])
    assert 0 < sum(pid in first_block for pid in order[:50]) < 50


def test_a_catalog_created_category_by_category_is_embedded_mixed(eager, settings):
    settings.VITRINE_EMBED_TASK_SIZE = 4
    mugs = _products(24, "MUG", "Stoneware coffee mug")
    towels = _products(24, "TWL", "Cotton bath towel")
    enqueue_embedding(mugs + towels)
    written = list(ProductEmbedding.objects.order_by("pk").values_list("product_id", flat=True))
    assert sorted(written) == sorted(mugs + towels)
    # The first vectors the graph received already hold both categories.
    first = set(written[:12])
    assert first & set(mugs) and first & set(towels)
