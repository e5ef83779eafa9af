from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from catalog.models import Product
from search.models import ProductEmbedding

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_reindex_embeds_products_the_queue_never_heard_of_and_waits(celery_worker):
    # bulk_create sends no signals: like rows written while the broker was down.
    Product.objects.bulk_create(
        [Product(sku=f"B-{i}", name=f"Cotton towel number {i}") for i in range(12)]
    )
    assert not ProductEmbedding.objects.exists()

    out = io.StringIO()
    call_command("reindex", "--timeout", "120", stdout=out)

    assert ProductEmbedding.objects.exclude(embedding=None).count() == 12
    assert "12 to embed" in out.getvalue() and "Index up to date: 12 embedded" in out.getvalue()

    out = io.StringIO()
    call_command("reindex", stdout=out)  # nothing stale: returns at once
    assert "0 to embed" in out.getvalue()


def test_search_command_prints_ranked_results(celery_worker):
    Product.objects.bulk_create(
        [Product(sku="C-1", name="Bath towel"), Product(sku="C-2", name="Band saw")]
    )
    call_command("reindex", "--timeout", "120", stdout=io.StringIO())
    out = io.StringIO()
    call_command("search", "fluffy towel", stdout=out)
    lines = out.getvalue().splitlines()
    # The towel counts; the saw is ranked but not counted (README, "Result counts").
    assert lines[0].startswith("1 result for 'fluffy towel'") and "C-1" in lines[1]
    also = lines.index("you might also like:")
    assert "C-2" in lines[also + 1]
