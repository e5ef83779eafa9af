"""A whole adaptation, start to end: the training data from the catalog (and clicks), the
fine-tuned embedder and the trained reranker saved under VAR_DIR/models/adapted-<hash>/, a
NEW search index built with the adapted embedder beside the active one (never activated
here: `reindex --activate ID` is the explicit step, `reindex --activate OLD` the rollback),
and both indexes measured on the shop's judged queries when it has some."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import products_for_documents
from search.adaptation import pseudo_queries
from search.adaptation.click_pairs import click_pairs
from search.adaptation.reranker import RerankerSettings, train_reranker
from search.adaptation.training import (
    NotAdaptable,
    TrainingSettings,
    check_adaptable,
    train_embedder,
)
from search.documents import document_text
from search.indexing import embedding, indexes
from search.inference.loading import get_embedder, load_embedder
from search.models import AdaptationRun, SearchIndex

logger = logging.getLogger(__name__)

ADAPT_TASK = "search.tasks.adapt_models"
# A running run reports progress every few seconds (its slowest step, one training step on a
# busy CPU, took ~30 s here). Silent this long, its worker is gone (killed, out of memory,
# restarted): the task's next delivery takes the run over instead of leaving it "running".
STALLED_AFTER_S = 15 * 60
CHUNK = 256  # products per read and per embedding batch of the new index
METADATA = "adaptation.json"


def adaptation_options(
    *,
    steps: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    average: float | None = None,
    reranker: bool | None = None,
    reranker_steps: int | None = None,
) -> dict:
    """The run's options, the settings' defaults for what is not given; raises ValueError
    with a message for the operator when one is out of range."""
    options = {
        "steps": settings.VITRINE_ADAPT_STEPS if steps is None else steps,
        "batch_size": settings.VITRINE_ADAPT_BATCH_SIZE if batch_size is None else batch_size,
        "lr": settings.VITRINE_ADAPT_LR if lr is None else lr,
        "average": settings.VITRINE_ADAPT_AVERAGE if average is None else average,
        "max_tokens": settings.VITRINE_ADAPT_MAX_TOKENS,
        "reranker": settings.VITRINE_ADAPT_RERANKER if reranker is None else reranker,
        "reranker_steps": (
            settings.VITRINE_ADAPT_RERANKER_STEPS if reranker_steps is None else reranker_steps
        ),
    }
    _training_settings(options).validate()
    if options["reranker"] and options["reranker_steps"] < 1:
        raise ValueError("reranker steps must be at least 1")
    return options


def start_adaptation(*, options: dict, queries: str = "", qrels: str = "") -> AdaptationRun:
    """Record a run and hand it to a worker (after the commit: the task loads the row). The
    task is sent by name (search.tasks defines it, the settings route it), as embeddings are."""
    if bool(queries) != bool(qrels):
        raise ValueError("give both judged queries and their qrels, or neither")
    run = AdaptationRun.objects.create(
        options=options, queries_path=queries, qrels_path=qrels, stage="waiting for a worker"
    )
    transaction.on_commit(lambda: current_app.signature(ADAPT_TASK, args=(run.pk,)).apply_async())
    return run


def run_adaptation(*, run_id: int) -> AdaptationRun | None:
    """Do the whole run recorded as `run_id`; its row tells the progress and the outcome.
    None when the row is gone (deleted in the admin before a worker got to it)."""
    run = AdaptationRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("adaptation %s no longer exists; nothing to do", run_id)
        return None
    stalled = run.status == AdaptationRun.Status.RUNNING and _stalled(run)
    if run.status not in (AdaptationRun.Status.QUEUED, AdaptationRun.Status.FAILED) and not stalled:
        return run  # a re-delivered task of a run that goes on elsewhere or finished
    if stalled:
        logger.warning(
            "adaptation %s: no progress since %s; taking it over", run.pk, run.heartbeat_at
        )
        run.message = f"taken over at {timezone.now():%Y-%m-%d %H:%M} UTC: its worker stopped"
    run.status, run.error = AdaptationRun.Status.RUNNING, ""
    run.started_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=["status", "started_at", "heartbeat_at", "error", "message"])
    began = time.perf_counter()
    try:
        _adapt(run)
    except NotAdaptable as exc:
        run.status, run.message = AdaptationRun.Status.SKIPPED, str(exc)
        logger.warning("adaptation %s skipped: %s", run.pk, exc)
    except Exception as exc:
        run.status, run.error = AdaptationRun.Status.FAILED, f"{exc.__class__.__name__}: {exc}"
        logger.exception("adaptation %s failed", run.pk)
    else:
        run.status = AdaptationRun.Status.SUCCEEDED
    run.timings["total_s"] = round(time.perf_counter() - began, 1)
    run.finished_at = timezone.now()
    run.stage = "" if run.status == AdaptationRun.Status.SUCCEEDED else run.stage
    run.save()
    return run


def _stalled(run: AdaptationRun) -> bool:
    """A running run whose worker has said nothing for STALLED_AFTER_S."""
    last = run.heartbeat_at or run.started_at
    return last is None or (timezone.now() - last).total_seconds() > STALLED_AFTER_S


def _training_settings(options: dict) -> TrainingSettings:
    return TrainingSettings(
        steps=options["steps"],
        batch_size=options["batch_size"],
        lr=options["lr"],
        average=options["average"],
        max_tokens=options["max_tokens"],
    )


def _progress(run: AdaptationRun) -> Callable[[str, int, int], None]:
    last = [0.0]

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 2:  # a row write every 2 s is plenty
            return
        last[0] = now
        run.stage, run.done_steps, run.total_steps = stage, done, total
        run.heartbeat_at = timezone.now()
        AdaptationRun.objects.filter(pk=run.pk).update(
            stage=stage, done_steps=done, total_steps=total, heartbeat_at=run.heartbeat_at
        )

    return report


def _adapt(run: AdaptationRun) -> None:
    options, progress = run.options, _progress(run)
    baseline = indexes.active_index()
    run.baseline_index = baseline
    model_id = baseline.embedder if baseline else settings.VITRINE_EMBEDDER
    revision = (baseline.revision or None) if baseline else settings.VITRINE_EMBEDDER_REVISION
    run.base_embedder = model_id
    embedder = load_embedder(model_id, revision)  # a copy of its own: training changes it
    check_adaptable(embedder)  # before the data, so a VLM is skipped at once

    progress("making pseudo-queries", 0, 1)
    t = time.perf_counter()
    documents, items = _catalog()
    data = pseudo_queries.build_training_data(items)
    clicked = click_pairs(product_ids=set(documents))
    data.train.extend(clicked)
    data.kinds["click"] = len(clicked)
    run.training_pairs = {**data.kinds, "held aside": len(data.held_aside)}
    run.data_hash = pseudo_queries.data_hash(data.train, documents)
    run.timings["data_s"] = round(time.perf_counter() - t, 1)
    out = _model_dir(run, model_id, revision)
    run.model_dir = str(out)
    run.save()

    training = _training_settings(options)
    report = train_embedder(
        embedder,
        train=data.train,
        held_aside=data.held_aside,
        documents=documents,
        settings=training,
        out=out / "embedder",
        progress=progress,
    )
    run.timings["train_s"] = round(report.seconds, 1)
    run.held_aside = {"embedder": {**report.held_aside_mrr, "best step": report.best_step}}
    del embedder  # the copy that trained; the index loads the saved one
    if options["reranker"]:
        reranker_report = train_reranker(
            train=data.train,
            held_aside=data.held_aside,
            documents=documents,
            settings=RerankerSettings(
                base=settings.VITRINE_ADAPT_RERANKER_BASE, steps=options["reranker_steps"]
            ),
            out=out / "reranker",
            device=settings.VITRINE_DEVICE,
            progress=progress,
        )
        run.reranker_path = str(out / "reranker")
        run.timings["reranker_s"] = round(reranker_report.seconds, 1)
        run.held_aside["reranker pairwise accuracy"] = reranker_report.held_aside_accuracy
    _write_metadata(out, run, model_id, revision, training)
    run.save()

    t = time.perf_counter()
    run.index = _build_index(out / "embedder", progress)
    run.timings["embed_s"] = round(time.perf_counter() - t, 1)
    run.save()
    if run.queries_path and run.qrels_path:
        t = time.perf_counter()
        run.figures = evaluate_indexes(run, progress=progress)
        run.timings["evaluate_s"] = round(time.perf_counter() - t, 1)


def _catalog() -> tuple[dict[int, str], list[pseudo_queries.CatalogItem]]:
    ids = list(Product.objects.filter(active=True).order_by("id").values_list("id", flat=True))
    documents: dict[int, str] = {}
    items: list[pseudo_queries.CatalogItem] = []
    for start in range(0, len(ids), CHUNK):
        products = products_for_documents(ids=ids[start : start + CHUNK])
        items += pseudo_queries.catalog_items(products)
        documents.update((p.id, document_text(p)) for p in products)
    if not documents:
        raise ValueError("the catalog has no active products to learn from")
    return documents, items


def _model_dir(run: AdaptationRun, model_id: str, revision: str | None) -> Path:
    """VAR_DIR/models/adapted-<hash of the data and settings>: the same data and settings
    make the same folder (and so the same index), anything else a new one."""
    key = json.dumps(
        {"data": run.data_hash, "base": [model_id, revision], "options": run.options},
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Path(settings.VITRINE_ADAPT_MODEL_DIR) / f"adapted-{digest}"


def _write_metadata(
    out: Path, run: AdaptationRun, model_id: str, revision: str | None, training
) -> None:
    metadata = {
        "run": run.pk,
        "base_embedder": model_id,
        "base_revision": revision,
        "data_hash": run.data_hash,
        "training_pairs": run.training_pairs,
        "settings": asdict(training),
        "reranker": run.reranker_path or None,
        "reranker_base": settings.VITRINE_ADAPT_RERANKER_BASE if run.reranker_path else None,
        "held_aside": run.held_aside,
        "timings": run.timings,
        "created": timezone.now().isoformat(),
    }
    (out / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")


def _build_index(path: Path, progress) -> SearchIndex:
    """The adapted embedder's index beside the active one, as `reindex --embedder PATH
    --no-activate` makes it (same index creation, same embedding code), here in this
    process. It stays in "building": product changes reach it until it is activated."""
    index = indexes.ensure_index_for(get_embedder(str(path), None))
    expected = embedding.expected_hashes()
    stale = embedding.stale_products(index, expected)
    for start in range(0, len(stale), CHUNK):
        progress("embedding the catalog", start, len(stale))
        embedding.embed_products(product_ids=stale[start : start + CHUNK], index_id=index.pk)
    progress("embedding the catalog", len(stale), len(stale))
    return SearchIndex.objects.get(pk=index.pk)


def evaluate_indexes(run: AdaptationRun, *, progress=None) -> dict:
    """`evaluate_search` on the index searches use now and on the new one (and with the
    trained reranker): {name: {mode: {metric: value}}}. TREC runs go beside the models."""
    progress = progress or (lambda *_: None)
    measured = [("active", run.baseline_index, None), ("adapted", run.index, None)]
    if run.reranker_path:
        measured.append(("adapted + reranker", run.index, run.reranker_path))
        if run.baseline_index is not None:
            measured.append(("active + reranker", run.baseline_index, run.reranker_path))
    figures = {}
    for done, (name, index, reranker) in enumerate(measured):
        if index is None:
            continue
        progress(f"evaluating: {name}", done, len(measured))
        out = io.StringIO()
        with override_settings(VITRINE_RERANKER=reranker):
            call_command(
                "evaluate_search",
                queries=run.queries_path,
                qrels=run.qrels_path,
                # the reranker is measured where it would serve: on the default mode
                mode="all" if reranker is None else "hybrid",
                json=True,
                rerank=reranker is not None,
                index=index.pk,
                save_runs=Path(run.model_dir) / "runs" / name.replace(" + ", "-"),
                stdout=out,
                stderr=io.StringIO(),
            )
        figures[name] = {"index": index.pk, **json.loads(out.getvalue().strip().splitlines()[-1])}
    progress("evaluated", len(measured), len(measured))
    return figures
