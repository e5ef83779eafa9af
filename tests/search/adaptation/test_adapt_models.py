"""`manage.py adapt_models` end to end on tiny models built here: the adapted embedder and the
reranker are saved with their metadata, a new index is built beside the active one and left
inactive, both are measured, and activation and rollback go through `reindex` as for any
model switch."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from search.adaptation import services as adaptation
from search.indexing import indexes
from search.models import AdaptationRun, SearchIndex
from search.query import SearchRequest
from search.services import search_products
from tests.search.adaptation.conftest import CATALOG


def adapt(**options) -> dict:
    out = io.StringIO()
    call_command("adapt_models", sync=True, json=True, stdout=out, **options)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_an_adaptation_builds_a_new_inactive_index_measured_beside_the_active_one(
    shop_on_tiny_model, settings
):
    before = shop_on_tiny_model["active"]
    result = adapt(
        steps=3, batch_size=4, reranker=True, reranker_steps=2,
        queries=shop_on_tiny_model["queries"], qrels=shop_on_tiny_model["qrels"],
    )  # fmt: skip

    assert result["status"] == "succeeded", result
    model_dir = Path(result["model_dir"])
    metadata = json.loads((model_dir / "adaptation.json").read_text())
    assert len(metadata["data_hash"]) == 64 and metadata["base_embedder"] == before.embedder
    assert metadata["settings"]["steps"] == 3 and metadata["settings"]["average"] == 0.5
    assert (model_dir / "embedder" / "modules.json").exists()
    assert (model_dir / "reranker").is_dir() and result["reranker"] == str(model_dir / "reranker")

    new = SearchIndex.objects.get(pk=result["index"])
    assert new.embedder == str(model_dir / "embedder") and not new.active
    assert indexes.active_index() == before  # shoppers still search the old one
    assert new.embeddings.exclude(embedding=None).count() == len(CATALOG)

    figures = result["figures"]
    assert figures["active"]["index"] == before.pk and figures["adapted"]["index"] == new.pk
    for name in ("active", "adapted"):
        assert set(figures[name]) >= {"lexical", "vector", "hybrid"}
        assert 0 <= figures[name]["hybrid"]["ndcg@10"] <= 1
    assert "hybrid" in figures["adapted + reranker"]
    # lexical ranking does not depend on the embedder: both indexes score it alike
    assert figures["active"]["lexical"] == figures["adapted"]["lexical"]

    # the trained reranker serves once VITRINE_RERANKER names its folder (opt-in)
    assert not search_products(SearchRequest(query="bath towel")).results[0].rerank_score
    settings.VITRINE_RERANKER = result["reranker"]
    response = search_products(SearchRequest(query="bath towel"))
    assert response.model["reranker"] == result["reranker"]
    assert all(hit.rerank_score is not None for hit in response.results)


@pytest.mark.django_db(transaction=True)
def test_the_adapted_index_is_activated_and_rolled_back_with_reindex(shop_on_tiny_model):
    before = shop_on_tiny_model["active"]
    result = adapt(steps=2, batch_size=4, reranker=False)
    assert result["reranker"] == ""

    call_command("reindex", activate=result["index"], stdout=io.StringIO())
    indexes.forget_active_index()
    assert indexes.active_index().pk == result["index"]
    response = search_products(SearchRequest(query="camping mug", mode="vector"))
    assert response.results and response.model["embedder"].endswith("embedder")

    call_command("reindex", activate=before.pk, stdout=io.StringIO())
    indexes.forget_active_index()
    assert indexes.active_index().pk == before.pk
    assert SearchIndex.objects.filter(pk=result["index"]).exists()  # kept for the next switch


@pytest.mark.django_db(transaction=True)
def test_a_vision_language_embedder_is_skipped_with_the_reason(db, settings, tiny_vlm_embedder):
    settings.VITRINE_EMBEDDER = str(tiny_vlm_embedder)
    out = io.StringIO()
    call_command("adapt_models", sync=True, stdout=out)
    assert "vision-language embedder" in out.getvalue()
    run = AdaptationRun.objects.get()
    assert run.status == AdaptationRun.Status.SKIPPED and not run.index_id


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"average": 1.5}, "--average must be between 0"),
        ({"steps": 0}, "steps must be at least 1"),
        ({"batch_size": 1}, "batch size must be at least 2"),
        ({"lr": 0.0}, "learning rate"),
        ({"queries": Path("q.tsv")}, "--queries and --qrels go together"),
        ({"queries": Path("/nope/q.tsv"), "qrels": Path("/nope/r.tsv")}, "no such file"),
    ],
)
def test_bad_options_are_refused_with_the_reason(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("adapt_models", sync=True, stdout=io.StringIO(), **options)
    assert not AdaptationRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_dual_encoder_adapts_its_text_side_and_keeps_reading_photos(
    settings, tmp_path, tiny_clip, png_bytes, no_embedding_queue
):
    from catalog import services as catalog
    from catalog.models import Product
    from search.indexing.embedding import embed_products

    # Embedded here, in this process, with the dual encoder only (no_embedding_queue: in a
    # full run the integration tests' worker, with the default model, would make its index
    # the active one first).
    SearchIndex.objects.all().delete()
    Product.objects.all().delete()
    settings.VITRINE_EMBEDDER = str(tiny_clip)
    settings.VITRINE_ADAPT_MODEL_DIR = tmp_path / "models"
    ids = []
    for sku, name, brand, category, color, description in CATALOG:
        product, _ = catalog.upsert_product(
            sku=sku, name=name, brand=brand, category=category, description=description,
            attributes={"color": color}, price="10.00",
        )  # fmt: skip
        catalog.attach_image(product=product, content=png_bytes(color), filename="p.png")
        ids.append(product.id)
    embed_products(product_ids=ids)

    result = adapt(steps=2, batch_size=4, reranker=False)
    assert result["status"] == "succeeded", result
    new = SearchIndex.objects.get(pk=result["index"])
    assert new.modalities == ["image", "text"] and not new.active
    assert new.embeddings.exclude(embedding=None).count() == len(CATALOG)


@pytest.mark.django_db(transaction=True)
def test_averaging_with_weight_zero_saves_the_original_model(shop_on_tiny_model):
    # WiSE-FT: the saved weights are (1 - a) * original + a * fine-tuned; a = 0 is the original,
    # so the new index ranks exactly as the active one, however the training went.
    result = adapt(
        steps=2, batch_size=4, reranker=False, average=0.0, lr=1e-3,
        queries=shop_on_tiny_model["queries"], qrels=shop_on_tiny_model["qrels"],
    )  # fmt: skip
    figures = result["figures"]
    assert figures["adapted"]["vector"] == figures["active"]["vector"]
    assert figures["adapted"]["hybrid"] == figures["active"]["hybrid"]


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_stopped_is_taken_over_and_a_live_one_is_left_alone(
    db, settings, tiny_vlm_embedder
):
    # (a vision-language embedder: the quickest whole run, skipped with its reason)
    settings.VITRINE_EMBEDDER = str(tiny_vlm_embedder)
    long_ago = timezone.now() - timedelta(seconds=adaptation.STALLED_AFTER_S + 60)
    stopped = AdaptationRun.objects.create(
        options=adaptation.adaptation_options(),
        status=AdaptationRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    live = AdaptationRun.objects.create(
        options=adaptation.adaptation_options(),
        status=AdaptationRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=timezone.now(),
    )

    # the task's next delivery (acks_late: the broker hands it out again after a crash)
    adaptation.run_adaptation(run_id=stopped.pk)
    adaptation.run_adaptation(run_id=live.pk)

    stopped.refresh_from_db()
    assert stopped.status == AdaptationRun.Status.SKIPPED  # it ran to its end this time
    assert stopped.started_at > long_ago and stopped.finished_at is not None
    live.refresh_from_db()
    assert live.status == AdaptationRun.Status.RUNNING and live.finished_at is None
