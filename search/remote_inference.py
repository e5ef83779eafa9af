"""Query encoding and reranking on the GPU worker pool instead of in the web process.

With VITRINE_REMOTE_INFERENCE on, web processes hold no model: they send the query to the
low-latency `query` queue (served by a GPU worker process of its own, so a shopper never
waits behind a long embedding batch) and wait for the answer through the result backend.
A query nobody is waiting for any more expires instead of running late.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from django.conf import settings
from PIL import Image


class RemoteInferenceUnavailable(RuntimeError):
    pass


def _photo_payload(photo: Image.Image | None) -> str | None:
    if photo is None:
        return None
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=92)
    return base64.b64encode(buffer.getvalue()).decode()


def photo_from_payload(payload: str | None) -> Image.Image | None:
    if not payload:
        return None
    return Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")


def _call(task, *args):
    timeout = settings.VITRINE_REMOTE_TIMEOUT_S
    try:
        result = task.apply_async(args=args, expires=timeout)
        return result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
    except Exception as exc:
        raise RemoteInferenceUnavailable(f"{task.name}: {exc.__class__.__name__}: {exc}") from exc


def encode_query_remotely(*, index_id: int, text: str, photo: Image.Image | None) -> np.ndarray:
    from search.tasks import encode_search_query

    return np.asarray(_call(encode_search_query, index_id, text, _photo_payload(photo)), np.float32)


def rerank_remotely(
    *, text: str, photo: Image.Image | None, product_ids: list[int]
) -> tuple[dict[int, float], str | None]:
    from search.tasks import rerank_search_candidates

    answer = _call(rerank_search_candidates, text, _photo_payload(photo), product_ids)
    scores = {int(pid): float(score) for pid, score in answer["scores"].items()}
    return scores, answer["notice"]
