"""The catalog's vectors: the bench's embedder's own embeddings of each product's document
(search.documents.build_document: the text the indexer embeds), cached on disk between runs.

The cache is a folder per model (and revision) under --cache-dir (default
~/.cache/vitrine-bench, or VITRINE_BENCH_CACHE): `chunk-*.npz` files, each the document
hashes (sha256 of the text and photo checksum, search.documents.ProductDocument) and the
vectors of up to CHUNK documents, written when that chunk is encoded (to a temporary name,
then renamed), so a stopped run keeps what it did and the next one encodes only the rest.
`log.jsonl` says when each chunk was encoded and how long it took (the first run's cost)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np

from suite.common import log, rnd
from suite.state import Run
from suite.store import copy_vectors

DEFAULT_CACHE = Path(
    os.environ.get("VITRINE_BENCH_CACHE", Path.home() / ".cache" / "vitrine-bench")
)
CHUNK = 1024  # documents per cache file (and per encode call)


class VectorCache:
    """Vectors by document hash for one model (and revision)."""

    def __init__(self, root: Path, model_id: str, revision: str | None) -> None:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{model_id}@{revision or 'default'}")
        self.dir = root / slug
        self.dir.mkdir(parents=True, exist_ok=True)
        self.vectors: dict[str, np.ndarray] = {}
        for path in sorted(self.dir.glob("chunk-*.npz")):
            with np.load(path) as chunk:
                for key, vector in zip(chunk["keys"], chunk["vectors"], strict=True):
                    self.vectors[key.decode()] = vector

    def __len__(self) -> int:
        return len(self.vectors)

    def add(self, keys: list[str], vectors: np.ndarray, *, seconds: float) -> None:
        """Keep these vectors (one new chunk file, complete or absent) and log the cost."""
        stamp = f"{time.time_ns():x}"
        path = self.dir / f"chunk-{stamp}.npz"
        tmp = self.dir / f"tmp-{stamp}.npz"
        np.savez(tmp, keys=np.asarray([k.encode() for k in keys]), vectors=vectors)
        os.replace(tmp, path)
        for key, vector in zip(keys, vectors, strict=True):
            self.vectors[key] = vector
        entry = {"file": path.name, "documents": len(keys), "seconds": rnd(seconds, 1)}
        entry["at"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        with open(self.dir / "log.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def first_fill(self) -> dict:
        """What filling this cache has cost so far, from its log (all runs together)."""
        documents = seconds = 0.0
        path = self.dir / "log.jsonl"
        if path.is_file():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                documents += entry["documents"]
                seconds += entry["seconds"]
        return {"documents_encoded": int(documents), "encode_s": rnd(seconds, 0)}


def embed_catalog(run: Run, product_ids: list[int]) -> dict:
    """Vectors for these products (none in run.index yet): the document each would be
    embedded from, its vector from the cache or encoded now with the index's own model
    (and cached), all written with binary COPY beside the real document hash. Returns
    how many came from the cache and what encoding the rest cost."""
    import torch

    from catalog.selectors import products_for_documents
    from search.documents import build_document
    from search.inference.encoding import encode_documents
    from search.inference.loading import embedder_for_index

    embedder = embedder_for_index(run.index)
    cache = VectorCache(Path(run.args.cache_dir), embedder.model_id, embedder.revision)
    hits = encoded = 0
    encode_s = 0.0
    threads = torch.get_num_threads()
    started = time.perf_counter()
    for start in range(0, len(product_ids), CHUNK):
        products = products_for_documents(ids=product_ids[start : start + CHUNK])
        documents = [build_document(p) for p in products]
        missing = [d for d in documents if d.document_hash not in cache.vectors]
        if missing:
            torch.set_num_threads(run.args.embed_threads)  # only this process encodes now
            t = time.perf_counter()
            batch = encode_documents(embedder, missing)
            seconds = time.perf_counter() - t
            torch.set_num_threads(threads)
            if batch.errors:
                raise RuntimeError(f"documents not encoded: {dict(list(batch.errors.items())[:3])}")
            fresh = {d.document_hash: batch.vectors[d.product_id] for d in missing}
            cache.add(
                list(fresh), np.asarray(list(fresh.values()), dtype=np.float32), seconds=seconds
            )
            encoded += len(missing)
            encode_s += seconds
            done = start + len(products)
            rate = encoded / encode_s
            left = (len(product_ids) - done) / rate if rate else 0
            log(
                f"  encoded {encoded:,} documents ({rate:.0f}/s); {done:,}/{len(product_ids):,} "
                f"stored; at most ~{left / 60:.0f} min left"
            )
        hits += len(documents) - len(missing)
        vectors = np.asarray([cache.vectors[d.document_hash] for d in documents], np.float32)
        copy_vectors(
            run.index.pk,
            [d.product_id for d in documents],
            vectors,
            [d.document_hash for d in documents],
        )
    return {
        "products": len(product_ids),
        "from_cache": hits,
        "encoded_now": encoded,
        "encode_s": rnd(encode_s, 1),
        "total_s": rnd(time.perf_counter() - started, 1),
        "cache": str(cache.dir),
        "cache_fill_so_far": cache.first_fill(),
    }
