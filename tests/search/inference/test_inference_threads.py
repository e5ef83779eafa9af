"""VITRINE_TORCH_THREADS holds in the thread that serves requests, wherever the model loaded."""

from __future__ import annotations

import threading

import torch

from search.inference.loading import get_embedder


def test_the_torch_thread_limit_reaches_the_thread_that_encodes_queries(settings):
    settings.VITRINE_TORCH_THREADS = 1
    # The web loads models in a warm-up thread; torch's thread count is per thread.
    loader = threading.Thread(target=get_embedder)
    loader.start()
    loader.join()
    torch.set_num_threads(2)  # what an untouched request thread starts with on 2 cores
    try:
        get_embedder()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(1)
