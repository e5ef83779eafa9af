"""`--calibrate`'s synthetic vectors: what `make bench` used for its 100k catalog until it
embedded real product texts (suite.catalog, suite.vectors); kept so the calibration can
still show how far such vectors are from real ones."""

from __future__ import annotations

import numpy as np


def synthetic_vectors(
    base: np.ndarray, base_group: list[str], groups: list[str], *, sigma: float, seed: int
) -> np.ndarray:
    """One unit vector per synthetic product: a random mixture of two real product vectors
    of the same article type (any two when the type has none), plus isotropic Gaussian noise
    of norm ~sigma, renormalised. Mixtures stay on the low-dimensional manifold that real
    MiniLM embeddings span (unlike uniform random unit vectors, where every point is almost
    equidistant from every other and no index can tell neighbours apart); the noise keeps
    products of the same pair from being duplicates."""
    rng = np.random.default_rng(seed)
    by_group: dict[str, np.ndarray] = {}
    for i, g in enumerate(base_group):
        by_group.setdefault(g, []).append(i)
    by_group = {g: np.asarray(ix) for g, ix in by_group.items()}
    everything = np.arange(len(base))
    n, dims = len(groups), base.shape[1]
    a = np.empty(n, dtype=np.int64)
    b = np.empty(n, dtype=np.int64)
    groups_arr = np.asarray(groups)
    for g in set(groups):
        rows = np.nonzero(groups_arr == g)[0]
        pool = by_group.get(g, everything)
        a[rows] = pool[rng.integers(0, len(pool), len(rows))]
        b[rows] = pool[rng.integers(0, len(pool), len(rows))]
    alpha = rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32)
    vectors = alpha * base[a] + (1 - alpha) * base[b]
    vectors += rng.standard_normal((n, dims), dtype=np.float32) * (sigma / np.sqrt(dims))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)
