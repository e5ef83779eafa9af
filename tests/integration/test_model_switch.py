"""Switching the embedding model never takes search down: a new index builds beside the
active one through the real worker, activation is one flip, rollback works."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from catalog import services as catalog
from catalog.models import Product
from search.models import ProductEmbedding, SearchIndex

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture
def indexed_shop(celery_worker):
    Product.objects.bulk_create(
        [Product(sku=f"T-{i}", name=f"Cotton bath towel {i}") for i in range(6)]
        + [Product(sku=f"S-{i}", name=f"Steel band saw {i}") for i in range(6)]
    )
    call_command("reindex", "--timeout", "120", stdout=io.StringIO())
    return SearchIndex.objects.get(active=True)


class SearchDuringSwitch(threading.Thread):
    """A shopper searching over and over while the switch happens."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.answers: list[tuple[int, int]] = []

    def run(self):
        client = Client()
        try:
            while not self.stop.is_set():
                response = client.get("/api/v1/search", {"q": "towel", "mode": "vector"})
                count = (
                    len(response.json().get("results", [])) if response.status_code == 200 else 0
                )
                self.answers.append((response.status_code, count))
                time.sleep(0.05)
        finally:
            connection.close()


def test_switch_to_another_model_and_back_while_search_keeps_answering(indexed_shop, tiny_clip):
    minilm = indexed_shop
    assert minilm.embedder == MINILM
    shopper = SearchDuringSwitch()
    shopper.start()
    try:
        out = io.StringIO()
        call_command("reindex", "--embedder", str(tiny_clip), "--timeout", "180", stdout=out)
    finally:
        shopper.stop.set()
        shopper.join(10)

    assert shopper.answers, "the shopper never got an answer"
    assert all(status == 200 and count > 0 for status, count in shopper.answers), shopper.answers
    clip = SearchIndex.objects.get(active=True)
    assert clip.embedder == str(tiny_clip) and clip.modalities == ["image", "text"]
    assert ProductEmbedding.objects.filter(index=clip).exclude(embedding=None).count() == 12
    minilm.refresh_from_db()
    assert minilm.state == SearchIndex.State.RETIRED and not minilm.active
    assert f"reindex --activate {minilm.pk}" in out.getvalue()

    client = Client()
    body = client.get("/api/v1/search", {"q": "towel"}).json()
    assert body["model"]["embedder"] == str(tiny_clip) and body["results"]

    call_command("reindex", "--activate", str(minilm.pk), "--timeout", "120", stdout=io.StringIO())
    body = client.get("/api/v1/search", {"q": "bath towel", "mode": "vector"}).json()
    assert body["model"]["embedder"] == MINILM
    assert body["results"][0]["sku"].startswith("T-")


def test_product_edits_during_a_build_reach_both_indexes(indexed_shop, tiny_clip):
    call_command("reindex", "--embedder", str(tiny_clip), "--no-activate", "--timeout", "180",
                 stdout=io.StringIO())  # fmt: skip
    building = SearchIndex.objects.get(embedder=str(tiny_clip))
    assert building.state == SearchIndex.State.BUILDING and not building.active

    product, _ = catalog.upsert_product(sku="NEW-1", name="Linen tea towel")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        indexes = set(
            ProductEmbedding.objects.filter(product=product)
            .exclude(embedding=None)
            .values_list("index_id", flat=True)
        )
        if indexes == {indexed_shop.pk, building.pk}:
            break
        time.sleep(0.2)
    assert indexes == {indexed_shop.pk, building.pk}
