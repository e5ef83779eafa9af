"""Fine-tuning the active embedder on the catalog's pseudo-queries, kept close to the original.

sentence-transformers' own loss, MultipleNegativesRankingLoss: each pseudo-query against its
product, the batch's other products (in-batch negatives) and its hard negatives (same
category, not described by the query). The loop is a plain torch loop over that loss rather
than SentenceTransformerTrainer, which would bring the `datasets` and `accelerate` packages
into every install for one job, and hide the step count the admin's progress bar shows.

The first attempt made the model worse (it forgot what it knew and learnt to copy titles;
docs/BENCHMARKS.md), so this one stays near the original on every axis:
- a low learning rate (1e-5, warmed up) and few steps (~300 batches of 32);
- documents cut to `max_tokens` (128) while training, read whole again afterwards;
- the held-aside pseudo-queries are measured every `check_every` steps, and the best
  weights are kept (a late step that fits the training queries better but the held-aside
  ones worse is dropped);
- weight-space averaging with the original (WiSE-FT, Wortsman et al. 2022): the saved model
  is (1 - a) * original + a * fine-tuned, a = `average` (0.5 by default). Averaging keeps
  most of what the original knew about queries nothing in the catalog resembles, and kept
  the fine-tuned gains in that paper's robustness measures.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.adaptation.pseudo_queries import TrainingPair

logger = logging.getLogger(__name__)

# Held-aside pseudo-queries measured at each check, against a pool three times as large:
# ~20 s of encoding on 2 CPU cores, a few times per run.
HELD_ASIDE_CHECKED = 100

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class NotAdaptable(Exception):
    """The model cannot be adapted by this job; the message says why, for the operator."""


@dataclass(frozen=True)
class TrainingSettings:
    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-5
    average: float = 0.5  # WiSE-FT mixing: 0 = the original, 1 = the fine-tuned weights
    max_tokens: int = 128
    warmup_fraction: float = 0.1
    check_every: int = 100
    seed: int = 0

    def validate(self) -> None:
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if self.batch_size < 2:
            raise ValueError(
                "batch size must be at least 2 (the batch's other products are negatives)"
            )
        if not 0 < self.lr < 1:
            raise ValueError("the learning rate must be between 0 and 1 (e.g. 1e-5)")
        if not 0 <= self.average <= 1:
            raise ValueError("--average must be between 0 (the original) and 1 (fine-tuned only)")
        if self.max_tokens < 16:
            raise ValueError("max tokens must be at least 16")


@dataclass
class TrainingReport:
    steps: int = 0
    seconds: float = 0.0
    best_step: int = 0
    # held-aside pseudo-queries' MRR@10 against a pool of their products and others
    held_aside_mrr: dict[str, float] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)


def check_adaptable(embedder) -> None:
    """Text-only models and CLIP-style dual encoders (their text tower) adapt; a
    vision-language embedder, which reads a product as one text+photo input, does not."""
    if embedder.reads_combined_documents:
        raise NotAdaptable(
            f"{embedder.model_id} is a vision-language embedder (it reads a product's text and "
            "photo as one input): adapting it on text pairs alone would pull its text side away "
            "from its photo side, so it is skipped and the active index stays as it is. Text "
            "models and CLIP-style dual encoders can be adapted."
        )


def take_step(loss, model, optimizer, schedule) -> float:
    """One optimiser step on `loss` (gradients clipped at norm 1, the schedule advanced, the
    gradients cleared); the loss, rounded for the run's report."""
    import torch  # heavy: only a training process needs it

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()
    return round(float(loss.detach()), 4)


def batches(
    pairs: Sequence[TrainingPair], *, batch_size: int, steps: int, rng: random.Random
) -> list[list[TrainingPair]]:
    """`steps` batches drawn by weight (a click pair of weight 2 comes twice as often), with
    no product twice in a batch: its copy would be a false in-batch negative."""
    weights = [max(p.weight, 0.0) for p in pairs]
    out: list[list[TrainingPair]] = []
    while len(out) < steps:
        drawn = rng.choices(range(len(pairs)), weights=weights, k=batch_size * 4)
        batch, products = [], set()
        for i in drawn:
            pair = pairs[i]
            if pair.product_id in products:
                continue
            products.add(pair.product_id)
            batch.append(pair)
            if len(batch) == batch_size:
                break
        if len(batch) < 2:
            raise ValueError("too few distinct products to make a training batch")
        out.append(batch)
    return out


def held_aside_mrr(
    model, pairs: Sequence[TrainingPair], documents: dict[int, str], pool: Sequence[int]
) -> float:
    """MRR@10 of the held-aside pseudo-queries against a pool of products (theirs, their
    hard negatives and others): cheap enough to measure during training."""
    import torch

    if not pairs:
        return 0.0
    pool = list(dict.fromkeys(pool))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        docs = model.encode_document(
            [documents[pid] for pid in pool], batch_size=32, normalize_embeddings=True,
            convert_to_tensor=True, show_progress_bar=False,
        )  # fmt: skip
        queries = model.encode_query(
            [p.query for p in pairs], batch_size=64, normalize_embeddings=True,
            convert_to_tensor=True, show_progress_bar=False,
        )  # fmt: skip
    if was_training:
        model.train()
    position = {pid: i for i, pid in enumerate(pool)}
    top = (queries @ docs.T).topk(min(10, len(pool)), dim=1).indices.tolist()
    total = 0.0
    for pair, ranked in zip(pairs, top, strict=True):
        target = position[pair.product_id]
        if target in ranked:
            total += 1.0 / (ranked.index(target) + 1)
    return total / len(pairs)


def evaluation_pool(
    held: Sequence[TrainingPair], documents: dict[int, str], *, size: int, rng: random.Random
) -> list[int]:
    pool = [p.product_id for p in held] + [n for p in held for n in p.negatives]
    others = [pid for pid in documents if pid not in set(pool)]
    pool += rng.sample(others, min(len(others), max(0, size - len(set(pool)))))
    return list(dict.fromkeys(pool))


def train_embedder(
    embedder,
    *,
    train: Sequence[TrainingPair],
    held_aside: Sequence[TrainingPair],
    documents: dict[int, str],
    settings: TrainingSettings,
    out: Path,
    progress: Progress | None = None,
) -> TrainingReport:
    """Fine-tune `embedder.model` (a freshly loaded copy: its weights change) and save the
    averaged model to `out`. Raises NotAdaptable for a model this job cannot adapt."""
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.util import batch_to_device

    check_adaptable(embedder)
    settings.validate()
    if not train:
        raise ValueError("no training pairs: the catalog gave no pseudo-query")
    progress = progress or (lambda *_: None)
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    model = embedder.model
    report = TrainingReport()
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    full_length = model.max_seq_length
    model.max_seq_length = min(settings.max_tokens, full_length or settings.max_tokens)
    held = list(held_aside[:HELD_ASIDE_CHECKED])
    pool = evaluation_pool(held, documents, size=3 * HELD_ASIDE_CHECKED, rng=rng)
    report.held_aside_mrr["original"] = held_aside_mrr(model, held, documents, pool)
    best = (report.held_aside_mrr["original"], 0, None)

    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr)
    warmup = max(1, int(settings.steps * settings.warmup_fraction))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(
            (s + 1) / warmup, max(0.0, (settings.steps - s) / (settings.steps - warmup or 1))
        ),
    )
    all_ids = list(documents)
    model.train()
    started = time.perf_counter()
    for step, batch in enumerate(
        batches(train, batch_size=settings.batch_size, steps=settings.steps, rng=rng), start=1
    ):
        in_batch = {p.product_id for p in batch}
        negatives = [
            p.negatives[0] if p.negatives else _random_other(all_ids, in_batch, rng) for p in batch
        ]
        columns = [
            [p.query for p in batch],
            [documents[p.product_id] for p in batch],
            [documents[n] for n in negatives],
        ]
        features = [batch_to_device(model.preprocess(c), model.device) for c in columns]
        loss = loss_fn(features, torch.zeros(len(batch)))
        report.losses.append(take_step(loss, model, optimizer, schedule))
        report.steps = step
        progress("training the embedder", step, settings.steps)
        if step % settings.check_every == 0 or step == settings.steps:
            mrr = held_aside_mrr(model, held, documents, pool)
            report.held_aside_mrr[f"step {step}"] = mrr
            logger.info("step %d: loss %.3f, held-aside MRR@10 %.3f", step, report.losses[-1], mrr)
            if mrr >= best[0]:
                best = (mrr, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
    report.seconds = time.perf_counter() - started
    report.best_step = best[1]
    tuned = best[2] if best[2] is not None else original
    model.load_state_dict(average_weights(original, tuned, settings.average))
    report.held_aside_mrr["saved"] = held_aside_mrr(model, held, documents, pool)
    model.max_seq_length = full_length
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    return report


def average_weights(original: dict, tuned: dict, alpha: float) -> dict:
    """WiSE-FT: (1 - alpha) * original + alpha * tuned, tensor by tensor (integer buffers,
    such as position ids, are taken from the original)."""
    out = {}
    for key, before in original.items():
        after = tuned[key]
        if before.is_floating_point():
            out[key] = (1 - alpha) * before + alpha * after
        else:
            out[key] = before
    return out


def _random_other(ids: list[int], taken: set[int], rng: random.Random) -> int:
    for _ in range(20):
        pid = rng.choice(ids)
        if pid not in taken:
            return pid
    return rng.choice(ids)
