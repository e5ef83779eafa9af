"""CPU (or GPU) cost of embedding one product document, per kind of model, through Vitrine's
own encoding code (search.inference.encoding.encode_documents): the packaged all-MiniLM-L6-v2
(text only), a tiny random CLIP (text and photo apart, fused) and a tiny random
Qwen3-VL-shaped embedder (one combined text+photo input).

Documents are the demo catalog's (generated text, 320x320 drawn photos); no database.

    .venv/bin/python bench/embed_cost.py [--products 128] [--device cpu] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Settings would start the embedded servers; this benchmark needs neither.
os.environ.setdefault("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    import torch
    from django.conf import settings
    from django.core.files.storage import FileSystemStorage

    from catalog.demo import demo_products, render_illustration
    from search.documents import ProductDocument
    from search.inference.encoding import encode_documents
    from search.inference.loading import get_embedder
    from tests.support import tiny_models

    settings.VITRINE_DEVICE = args.device
    tmp = Path(tempfile.mkdtemp(prefix="vitrine-bench-"))
    photos = FileSystemStorage(location=tmp)
    items = demo_products()[: args.products]
    documents = []
    for i, item in enumerate(items):
        photo = tmp / f"{i}.png"
        photo.write_bytes(render_illustration(item))
        text = "\n".join([item["name"], item["brand"], item["category"], item["description"]])
        documents.append(ProductDocument(i, text, photo.name, str(i), storage=photos))

    models = {
        "all-MiniLM-L6-v2 (text only)": "sentence-transformers/all-MiniLM-L6-v2",
        "tiny CLIP (text + photo, fused)": str(tiny_models.build_tiny_clip(tmp / "clip")),
        "tiny Qwen3-VL (combined input)": str(
            tiny_models.build_tiny_qwen3vl_embedder(tmp / "qwen")
        ),
    }
    results = {}
    for label, model_id in models.items():
        embedder = get_embedder(model_id, None)
        encode_documents(embedder, documents[:8])  # warm-up: first-call allocations
        started = time.perf_counter()
        encode_documents(embedder, documents)
        elapsed = time.perf_counter() - started
        results[label] = {
            "docs_per_s": round(len(documents) / elapsed, 1),
            "ms_per_doc": round(1000 * elapsed / len(documents), 2),
        }
    meta = {
        "products": len(documents),
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "batch_size": settings.VITRINE_EMBED_BATCH_SIZE,
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": results}))
        return
    print(f"{meta}")
    for label, r in results.items():
        print(f"{label:<34} {r['docs_per_s']:>8} docs/s  {r['ms_per_doc']:>7} ms/doc")


if __name__ == "__main__":
    main()
