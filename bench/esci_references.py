"""Recompute the ESCI reference runs of ../shared/data/README.md and compare Vitrine's runs
with them query by query (paired bootstrap), so "above the references" is a measured claim.

References, as the README describes them (every product as "title brand color category
bullets description"): BM25 (bm25s, English stop words), dense all-MiniLM-L6-v2 (exact
cosine), and their reciprocal rank fusion (k = 60). Vitrine's runs come from
`bench/eval_esci.py` (TREC files in VAR_DIR/runs).

    .venv/bin/pip install bm25s   # bench-only, not a dependency of the app
    .venv/bin/python bench/esci_references.py --var-dir /tmp/vt-esci

The dense reference embeds 6,764 products once (~6 minutes on 2 CPU cores), cached in
VAR_DIR/esci-reference-dense.npy.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search import evaluation  # noqa: E402  (plain functions, no Django needed)

METRICS = ("ndcg@10", "recall@50", "mrr@10")


def reference_text(product: dict) -> str:
    fields = [
        product.get("title"),
        product.get("brand"),
        product.get("color"),
        " ".join(product.get("category") or []),
        product.get("bullet_points"),
        product.get("description"),
    ]
    return " ".join(str(f) for f in fields if f)


def bm25_run(texts, asins, queries, depth=100) -> dict[str, list[str]]:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    run = {}
    for q in queries:
        tokens = bm25s.tokenize([q.text], stopwords="en", show_progress=False)
        docs, _ = retriever.retrieve(tokens, k=depth, show_progress=False)
        run[q.qid] = [asins[i] for i in docs[0]]
    return run


def dense_run(texts, asins, queries, cache: Path, depth=100) -> dict[str, list[str]]:
    from sentence_transformers import SentenceTransformer

    from search.inference.loading import resolve_model_source  # the packaged offline copy

    model = SentenceTransformer(resolve_model_source("sentence-transformers/all-MiniLM-L6-v2"))
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
        np.save(cache, vectors)
    query_vectors = model.encode([q.text for q in queries], normalize_embeddings=True)
    return {
        q.qid: [asins[i] for i in np.argsort(-(vectors @ v))[:depth]]
        for q, v in zip(queries, query_vectors, strict=True)
    }


def rrf_run(*runs, k=60, depth=100) -> dict[str, list[str]]:
    fused = {}
    for qid in runs[0]:
        scores: dict[str, float] = {}
        for run in runs:
            for rank, doc in enumerate(run.get(qid, []), start=1):
                scores[doc] = scores.get(doc, 0.0) + 1 / (k + rank)
        fused[qid] = sorted(scores, key=lambda d: -scores[d])[:depth]
    return fused


def read_trec_run(path: Path) -> dict[str, list[str]]:
    run: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        qid, _, doc, *_ = line.split()
        run.setdefault(qid, []).append(doc)
    return run


def paired(ours, theirs, qrels, rounds=10_000) -> dict[str, tuple[float, float, float]]:
    """Mean per-query difference and its 95% bootstrap interval, per metric."""
    a = evaluation.per_query_scores(qrels=qrels, rankings=ours)
    b = evaluation.per_query_scores(qrels=qrels, rankings=theirs)
    rng = np.random.default_rng(0)
    out = {}
    for metric in METRICS:
        diff = np.array([a[q][metric] - b[q][metric] for q in a])
        means = rng.choice(diff, (rounds, len(diff))).mean(axis=1)
        out[metric] = (diff.mean(), *np.percentile(means, [2.5, 97.5]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var-dir", type=Path, default=Path("/tmp/vt-esci"))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/esci")
    args = parser.parse_args()
    if not (args.data / "products.jsonl").exists():
        sys.exit(f"no ESCI data at {args.data} (see ../shared/data/README.md)")
    products = [json.loads(line) for line in open(args.data / "products.jsonl")]
    texts, asins = [reference_text(p) for p in products], [p["asin"] for p in products]
    queries = evaluation.read_queries(args.data / "queries_dev.tsv")
    qrels = evaluation.read_qrels(args.data / "qrels_dev.tsv")

    references = {"BM25": bm25_run(texts, asins, queries)}
    references["dense"] = dense_run(
        texts, asins, queries, args.var_dir / "esci-reference-dense.npy"
    )
    references["RRF"] = rrf_run(references["BM25"], references["dense"])
    print(f"{'reference (recomputed)':24s}" + "".join(f"{m:>11s}" for m in METRICS))
    for name, run in references.items():
        scores = evaluation.evaluate_rankings(qrels=qrels, rankings=run)
        print(f"{name:24s}" + "".join(f"{scores[m]:11.3f}" for m in METRICS))

    print("\nVitrine minus reference, mean per-query difference [95% paired bootstrap]")
    for mode in ("lexical", "vector", "hybrid"):
        path = args.var_dir / "runs" / f"{mode}.run"
        if not path.exists():
            continue
        ours = read_trec_run(path)
        for name, run in references.items():
            cells = [
                f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
                for d, lo, hi in paired(ours, run, qrels).values()
            ]
            print(f"{mode:8s} vs {name:6s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
