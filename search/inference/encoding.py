"""How each kind of model reads a product document and a shopper's query.

The strategy follows what the model says it can read, never its name:
- VLM embedders (Qwen3-VL-Embedding style) take one combined {"text", "image"} input;
- dual encoders (CLIP style) refuse combined inputs: text and photo are encoded apart and
  fused by VITRINE_IMAGE_WEIGHT, then re-normalised;
- text-only models read the text; photos are shown to shoppers but not embedded, and a
  photo query is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from PIL import Image

from search.documents import ProductDocument
from search.inference.loading import Embedder


class PhotoQueryUnsupported(ValueError):
    """The active model cannot read photos."""


@dataclass
class EncodedBatch:
    vectors: dict[int, np.ndarray] = field(default_factory=dict)  # product id -> unit vector
    errors: dict[int, str] = field(default_factory=dict)  # product id -> why it is flagged


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.clip(norms, 1e-12, None)


def _encode(embedder: Embedder, inputs: Sequence) -> np.ndarray:
    """Unit vectors for documents (stored normalised whatever the model's last module)."""
    if not inputs:
        return np.zeros((0, embedder.dims), dtype=np.float32)
    vectors = embedder.model.encode_document(
        list(inputs),
        batch_size=settings.VITRINE_EMBED_BATCH_SIZE,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return _normalise(np.asarray(vectors, dtype=np.float32))


def encode_documents(embedder: Embedder, documents: Sequence[ProductDocument]) -> EncodedBatch:
    """Encode each document the way this model reads it:

    - VLM embedders: one combined {"text", "image"} input per product;
    - dual encoders (CLIP-style): text and photo apart, fused by VITRINE_IMAGE_WEIGHT;
    - text-only models: the text (photos are shown to shoppers but not embedded).

    A photo that cannot be decoded never fails the batch: that product is embedded from its
    text and flagged."""
    out = EncodedBatch()
    images: dict[int, object] = {}
    if embedder.reads_images:
        for doc in documents:
            if not doc.image_name:
                continue
            try:
                images[doc.product_id] = doc.load_image()
            except Exception as exc:  # any decoder failure: fall back to text, flag it
                out.errors[doc.product_id] = f"photo could not be read: {exc.__class__.__name__}"

    # Similar-sized photos batch together, so one huge photo does not pad a whole batch of
    # small ones up to its token count (VLMs read images at their own resolution).
    with_photo = sorted(
        (d for d in documents if d.product_id in images),
        key=lambda d: (images[d.product_id].width * images[d.product_id].height, len(d.text)),
    )
    text_only = [d for d in documents if d.product_id not in images]

    for doc, vec in zip(text_only, _encode(embedder, [d.text for d in text_only]), strict=True):
        out.vectors[doc.product_id] = vec
    if not with_photo:
        return out
    if embedder.reads_combined_documents:
        inputs = [{"text": d.text, "image": images[d.product_id]} for d in with_photo]
        for doc, vec in zip(with_photo, _encode(embedder, inputs), strict=True):
            out.vectors[doc.product_id] = vec
    else:
        weight = settings.VITRINE_IMAGE_WEIGHT
        text_vecs = _encode(embedder, [d.text for d in with_photo])
        image_vecs = _encode(embedder, [images[d.product_id] for d in with_photo])
        fused = _normalise((1 - weight) * text_vecs + weight * image_vecs)
        for doc, vec in zip(with_photo, fused, strict=True):
            out.vectors[doc.product_id] = vec
    return out


def encode_query(
    embedder: Embedder, *, text: str = "", photo: Image.Image | None = None
) -> np.ndarray:
    """One unit vector for a text, photo, or text+photo query (the model's query prompt)."""
    if photo is not None and not embedder.reads_images:
        raise PhotoQueryUnsupported(
            f"the active model ({embedder.model_id}) reads text only and cannot search by photo"
        )

    def one(item) -> np.ndarray:
        vec = embedder.model.encode_query([item], convert_to_numpy=True, show_progress_bar=False)
        return _normalise(np.asarray(vec, dtype=np.float32))[0]

    if photo is None:
        return one(text)
    if not text:
        return one(photo)
    if embedder.reads_combined_documents:
        return one({"text": text, "image": photo})
    weight = settings.VITRINE_IMAGE_WEIGHT
    return _normalise(((1 - weight) * one(text) + weight * one(photo))[None, :])[0]
