"""Tiny random-weight models built offline, saved the way a hub checkout would be, and loaded
through the same `SentenceTransformer(path)` / `CrossEncoder(path)` code production uses."""

from __future__ import annotations

import string
from pathlib import Path

WORDS = (
    "towel bath cotton soft mug coffee ceramic saw blade steel band sneaker running shoe lamp "
    "desk light red blue green white black the a for and with of to in"
).split()


def _wordpiece_vocab() -> dict[str, int]:
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens += ["##" + c for c in string.ascii_lowercase + string.digits]
    tokens += [w for w in WORDS if w not in tokens]
    return {token: i for i, token in enumerate(tokens)}


def build_tiny_cross_encoder(out: Path, *, seed: int = 0) -> Path:
    """A 2-layer BERT sequence classifier (one logit) with a WordPiece vocab built here."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    out = Path(out)
    raw = out.parent / (out.name + "-raw")
    raw.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(vocab=_wordpiece_vocab())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=1,
        initializer_range=0.2,  # spread the random scores so orderings are not ties
    )
    BertForSequenceClassification(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    CrossEncoder(str(raw), device="cpu", max_length=128).save(str(out), create_model_card=False)
    return out
