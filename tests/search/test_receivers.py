"""Catalog saves reach the search index as batched embedding tasks, once per commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from catalog import services as catalog
from search import receivers

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """What would be sent to the broker (the broker itself is exercised by the worker tests)."""
    sent: list[list[int]] = []
    monkeypatch.setattr(receivers, "enqueue_embedding", lambda ids: sent.append(sorted(ids)))
    return sent


def test_a_transaction_of_many_saves_enqueues_one_batch_after_commit(
    django_capture_on_commit_callbacks, enqueued, png_bytes
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            ids = []
            for i in range(5):
                product, _ = catalog.upsert_product(sku=f"P-{i}", name=f"Mug {i}")
                catalog.attach_image(product=product, content=png_bytes(), filename="p.png")
                ids.append(product.id)
            assert enqueued == []  # nothing before the commit
    assert len(callbacks) == 1
    assert enqueued == [sorted(ids)]


def test_a_rolled_back_savepoint_does_not_lose_later_saves(
    django_capture_on_commit_callbacks, enqueued
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    catalog.upsert_product(sku="GONE", name="Rolled back")
                    raise RuntimeError
            except RuntimeError:
                pass
            kept, _ = catalog.upsert_product(sku="KEPT", name="Kept")
    assert enqueued == [[kept.id]]
