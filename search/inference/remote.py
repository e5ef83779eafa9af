"""Query encoding and reranking on the GPU worker pool instead of in the web process.

With VITRINE_REMOTE_INFERENCE on, web processes hold no model: they send the query to the
low-latency `query` queue (served by a GPU worker process of its own, so a shopper never
waits behind a long embedding batch) and wait for the answer through the result backend.
A query nobody is waiting for any more expires instead of running late.

Tasks are sent by name (search.tasks defines them; their routes are in the settings), so
this module needs nothing of the tasks module; the tasks answer with the in-process backend.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from celery import current_app
from django.conf import settings
from PIL import Image

from search.models import SearchIndex

ENCODE_QUERY_TASK = "search.tasks.encode_search_query"
RERANK_TASK = "search.tasks.rerank_search_candidates"


class RemoteInferenceUnavailable(RuntimeError):
    """The query queue did not answer in time (no worker, a broker outage, a failed task)."""


def photo_payload(photo: Image.Image | None) -> str | None:
    """A query photo as the tasks receive it (JSON-safe)."""
    if photo is None:
        return None
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=92)
    return base64.b64encode(buffer.getvalue()).decode()


def photo_from_payload(payload: str | None) -> Image.Image | None:
    if not payload:
        return None
    return Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")


def _call(task_name: str, *args):
    timeout = settings.VITRINE_REMOTE_TIMEOUT_S
    try:
        result = current_app.send_task(task_name, args=args, expires=timeout)
        return result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
    except Exception as exc:
        raise RemoteInferenceUnavailable(f"{task_name}: {exc.__class__.__name__}: {exc}") from exc


class RemoteInference:
    """Query-time inference on the GPU workers, through the `query` queue."""

    def encode_query(
        self, index: SearchIndex, *, text: str, photo: Image.Image | None
    ) -> np.ndarray:
        vector = _call(ENCODE_QUERY_TASK, index.pk, text, photo_payload(photo))
        return np.asarray(vector, np.float32)

    def rerank(
        self, *, text: str, photo: Image.Image | None, product_ids: list[int]
    ) -> tuple[dict[int, float], str | None]:
        answer = _call(RERANK_TASK, text, photo_payload(photo), product_ids)
        scores = {int(pid): float(score) for pid, score in answer["scores"].items()}
        return scores, answer["notice"]
