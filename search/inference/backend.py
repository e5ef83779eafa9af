"""What a search asks of the models, behind one interface, chosen in one place.

Development runs the models in the web process, loaded lazily (`InProcessInference`);
production may send query encoding and reranking to the GPU workers' `query` queue
(`RemoteInference`, with VITRINE_REMOTE_INFERENCE), so web processes hold no model. The
remote tasks answer with `InProcessInference` on the worker."""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np
from django.conf import settings
from PIL import Image

from search.inference.encoding import encode_query
from search.inference.loading import embedder_for_index, get_embedder
from search.inference.remote import RemoteInference
from search.inference.reranking import rerank_products
from search.models import SearchIndex

logger = logging.getLogger(__name__)


class InferenceBackend(Protocol):
    def encode_query(
        self, index: SearchIndex, *, text: str, photo: Image.Image | None
    ) -> np.ndarray:
        """One unit vector for the query, by the model that made `index`'s vectors. Raises
        PhotoQueryUnsupported for a photo that model cannot read."""

    def rerank(
        self, *, text: str, photo: Image.Image | None, product_ids: list[int]
    ) -> tuple[dict[int, float], str | None]:
        """The reranker's score per product, and a notice for the shopper when it could not
        read all of the query. Raises search.inference.remote.RemoteInferenceUnavailable
        when the queue does not answer."""


class InProcessInference:
    """The models in this process, loaded on first use (search.inference.loading)."""

    def encode_query(
        self, index: SearchIndex, *, text: str, photo: Image.Image | None
    ) -> np.ndarray:
        return encode_query(embedder_for_index(index), text=text, photo=photo)

    def rerank(
        self, *, text: str, photo: Image.Image | None, product_ids: list[int]
    ) -> tuple[dict[int, float], str | None]:
        return rerank_products(text=text, photo=photo, product_ids=product_ids)


_BACKENDS: dict[bool, InferenceBackend] = {False: InProcessInference(), True: RemoteInference()}


def inference_backend() -> InferenceBackend:
    """The backend this process answers searches with (VITRINE_REMOTE_INFERENCE)."""
    return _BACKENDS[bool(settings.VITRINE_REMOTE_INFERENCE)]


def configured_model_modalities() -> list[str] | None:
    """What the configured embedder (VITRINE_EMBEDDER) reads, asked of the model itself: for
    a shop with no index yet, where no index can say it (an empty shop, a first import under
    way). Loads the model in this process, as its first query would. None when that is not
    possible here: with remote inference the web holds no model, or the model cannot load."""
    if settings.VITRINE_REMOTE_INFERENCE:
        return None
    try:
        return get_embedder().modalities
    except Exception:
        logger.warning("could not load %s to ask what it reads", settings.VITRINE_EMBEDDER)
        return None
