#!/usr/bin/env python3
"""End-to-end relevance benchmark on the ESCI dev set (../shared/data/esci).

    .venv/bin/python bench/eval_esci.py [--var-dir /tmp/vt-esci] [--fresh] [--mode all]

1. converts the ESCI files (bench/esci_to_jsonl.py) into VAR_DIR/esci/,
2. starts (or attaches to) the embedded PostgreSQL and Redis of VAR_DIR and migrates,
3. imports the 6,764 products (`manage.py import_catalog` when it exists, else
   catalog.services.upsert_product), skipping this when they are already there,
4. embeds every product in-process with the configured model, in chunks of 256, timed
   (only what is missing or stale: a second run reuses the embedded database),
5. runs `manage.py evaluate_search --mode all --json` twice, on the whole ranking and on the
   counted results (`--counted`: what a shopper pages through, search.retrieval.counting),
   and prints both tables next to the reference points of ../shared/data/README.md (which
   rank every product: compare them with the whole ranking).

With --adapt it then adapts the models to the catalog (`manage.py adapt_models --sync`: a
fine-tuned embedder in a NEW index, never activated, and with --adapt-reranker a trained
reranker, measured at VITRINE_RERANK_TOP_N), and prints
both indexes' figures side by side with paired bootstrap intervals and the reranker's cost
per query at each --rerank-depths (bench/esci_adapt.py); --adapt-run ID reports a finished
run again without training. Results in VAR_DIR/esci-adapt-results.json.

The database stays in VAR_DIR, so evaluation alone can be repeated later:

    VITRINE_VAR_DIR=/tmp/vt-esci .venv/bin/python manage.py evaluate_search \\
        --queries /tmp/vt-esci/esci/queries.tsv --qrels /tmp/vt-esci/esci/qrels.tsv --mode all
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import esci_to_jsonl  # noqa: E402

REFERENCE = {  # ../shared/data/README.md: NDCG@10 / Recall@50 / MRR@10 on the dev queries
    "BM25 (bm25s)": (0.718, 0.760, 0.867),
    "dense all-MiniLM-L6-v2": (0.742, 0.761, 0.891),
    "RRF of both": (0.747, 0.801, 0.926),
}
EMBED_CHUNK = 256


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def reset_var_dir(var_dir: Path) -> None:
    """Stop the embedded servers of `var_dir` and delete it. Refuses anything that does not
    look like a Vitrine var dir, so a typo cannot wipe an unrelated folder."""
    if not var_dir.exists():
        return
    if var_dir.resolve() in (ROOT, ROOT / "var", Path.home(), Path("/")) or (
        any(var_dir.iterdir()) and not (var_dir / "pg").exists()
    ):
        raise SystemExit(f"--fresh: {var_dir} does not look like a Vitrine var dir; not deleting")
    from config import embedded

    embedded.stop_postgres(var_dir)
    embedded.stop_redis(var_dir)
    shutil.rmtree(var_dir)


def setup_django(var_dir: Path) -> None:
    os.environ["VITRINE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    from config import embedded

    # The settings start nothing: the embedded servers of var_dir, unless the URLs are set.
    embedded.start_if_needed()
    django.setup()


def import_products(path: Path, loader: str) -> float:
    """Load the JSONL into the catalog; returns seconds spent."""
    from django.core.management import call_command, get_commands

    from catalog.models import Product

    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    have = Product.objects.filter(sku__in=[r["sku"] for r in rows]).count()
    if have == len(rows):
        log(f"catalog: all {have} products already imported")
        return 0.0
    started = time.perf_counter()
    use_command = loader == "command" or (loader == "auto" and "import_catalog" in get_commands())
    if use_command:
        log(f"catalog: manage.py import_catalog {path}")
        failed = path.with_name("import-failed-rows.csv")
        try:
            call_command("import_catalog", str(path), failed_rows=str(failed))
        except SystemExit as exc:  # 2: some rows failed (written to `failed`)
            raise SystemExit(f"import_catalog exited with {exc.code}; see {failed}") from None
    else:
        from django.db import transaction
        from tqdm import tqdm

        from catalog import services as catalog

        log("catalog: import_catalog not available; loading with catalog.services.upsert_product")
        for start in tqdm(range(0, len(rows), 500), desc="import", unit="chunk", disable=None):
            with transaction.atomic():
                for row in rows[start : start + 500]:
                    catalog.upsert_product(
                        sku=row["sku"],
                        name=row["name"],
                        description=row["description"],
                        brand=row["brand"],
                        price=row["price"],
                        currency=row["currency"],
                        attributes=row["attributes"],
                        category=row["category"],
                    )
    elapsed = time.perf_counter() - started
    _drop_queued_embeddings()
    have = Product.objects.filter(sku__in=[r["sku"] for r in rows]).count()
    if have != len(rows):
        raise SystemExit(f"only {have} of {len(rows)} products are in the catalog after import")
    log(f"catalog: {have} products imported in {elapsed:.0f} s")
    return elapsed


def _drop_queued_embeddings() -> None:
    """Importing announced every product to the embed queue; this script embeds in-process,
    so those messages would only make a later worker on this var dir repeat the work."""
    from config.celery import app

    try:
        app.control.purge()
    except Exception as exc:  # the broker is only a convenience here
        log(f"warning: could not purge the queue: {exc}")


def embed_all() -> tuple[int, float]:
    """Embed every active product whose vector is missing or stale (embed_products skips the
    current ones by document hash). Returns (count embedded, seconds)."""
    from tqdm import tqdm

    from catalog.models import Product
    from search.indexing import embedding
    from search.inference.loading import get_embedder

    ids = list(Product.objects.filter(active=True).order_by("id").values_list("id", flat=True))
    get_embedder()  # load the model before the clock starts
    embedded = 0
    started = time.perf_counter()
    with tqdm(total=len(ids), desc="embed", unit="product", disable=None) as bar:
        for start in range(0, len(ids), EMBED_CHUNK):
            chunk = ids[start : start + EMBED_CHUNK]
            report = embedding.embed_products(product_ids=chunk)
            embedded += report.embedded
            if report.flagged:
                log(f"warning: {report.flagged} products flagged in this chunk")
            bar.update(len(chunk))
    elapsed = time.perf_counter() - started
    if not embedded:
        log(f"index: all {len(ids)} products already embedded ({elapsed:.0f} s to check)")
        return 0, 0.0
    return embedded, elapsed


def evaluate(
    paths: dict[str, Path], *, mode: str, rerank: bool, runs: Path, counted: bool = False
) -> dict:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "evaluate_search",
        queries=paths["queries"],
        qrels=paths["qrels"],
        mode=mode,
        json=True,
        rerank=rerank,
        save_runs=runs,
        counted=counted,
        stdout=out,
    )
    return json.loads(out.getvalue().strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except Exception:
        gpu = "no GPU"
    return f"{os.cpu_count()} CPU cores ({cpu}), {gpu}, Python {platform.python_version()}"


def print_table(results: dict, model: str, what: str = "the whole ranking") -> None:
    print(f"\nESCI dev, {model}, {what}:")
    print(f"{'system':<34} {'NDCG@10':>8} {'Recall@50':>10} {'MRR@10':>8}")
    for mode, scores in results.items():
        name = f"Vitrine {mode}"
        print(
            f"{name:<34} {scores['ndcg@10']:8.3f} {scores['recall@50']:10.3f} "
            f"{scores['mrr@10']:8.3f}"
        )
    if what != "the whole ranking":
        return  # the references rank every product: they compare with the whole ranking
    for name, (ndcg, recall, mrr) in REFERENCE.items():
        print(f"{'reference ' + name:<34} {ndcg:8.3f} {recall:10.3f} {mrr:8.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var-dir", type=Path, default=Path("/tmp/vt-esci"))
    parser.add_argument("--data", type=Path, default=esci_to_jsonl.DEFAULT_DATA)
    parser.add_argument("--fresh", action="store_true", help="delete VAR_DIR and start over")
    parser.add_argument("--mode", default="all", choices=["all", "lexical", "vector", "hybrid"])
    parser.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--loader", default="auto", choices=["auto", "command", "direct"])
    parser.add_argument("--adapt", action="store_true", help="then run adapt_models and compare")
    parser.add_argument("--adapt-run", type=int, metavar="ID", help="report a finished run")
    parser.add_argument("--adapt-steps", type=int, help="adapt_models --steps")
    parser.add_argument("--adapt-reranker", action="store_true", help="adapt_models --reranker")
    parser.add_argument("--adapt-reranker-steps", type=int, help="adapt_models --reranker-steps")
    parser.add_argument(
        "--rerank-depths", default="10,20,50", help="rerank depths to time the reranker at"
    )
    args = parser.parse_args(argv)

    var_dir = args.var_dir.resolve()
    if not (args.data / "products.jsonl").exists():
        raise SystemExit(f"no ESCI data at {args.data} (see ../shared/data/README.md)")
    if args.fresh:
        reset_var_dir(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    paths = esci_to_jsonl.convert(args.data, var_dir / "esci")

    setup_django(var_dir)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.adapt_run:  # a finished run: its figures are stored, nothing to build again
        return adapt(args, paths, var_dir)
    import_s = import_products(paths["products"], args.loader)
    embedded, embed_s = embed_all()
    # The keyword leg weighs words by idf; in a running shop the sweeper (Celery beat) recounts
    # the statistics, here nothing else would.
    from search.indexing.lexical import refresh_lexeme_stats

    refresh_lexeme_stats()
    build_file = var_dir / "esci-build.json"
    if import_s or embedded:  # what building this database cost, kept for later runs
        build = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": machine(),
            "import_s": round(import_s, 1),
            "embedded": embedded,
            "embed_s": round(embed_s, 1),
            "embed_per_s": round(embedded / embed_s, 1) if embed_s else None,
        }
        build_file.write_text(json.dumps(build, indent=2) + "\n")
        log(f"build: {build}")
    build = json.loads(build_file.read_text()) if build_file.exists() else {}

    started = time.perf_counter()
    results = evaluate(paths, mode=args.mode, rerank=args.rerank, runs=var_dir / "runs")
    counted = evaluate(
        paths, mode=args.mode, rerank=args.rerank, runs=var_dir / "runs-counted", counted=True
    )
    eval_s = time.perf_counter() - started
    model = settings.VITRINE_EMBEDDER
    if args.rerank and settings.VITRINE_RERANKER:
        model += f" + rerank {settings.VITRINE_RERANKER}"
    summary = {
        "results": results,
        "results_counted": counted,
        "model": model,
        "fusion": settings.SEARCH_FUSION,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "evaluate_s": round(eval_s, 1),
        "build": build,
        "var_dir": str(var_dir),
    }
    (var_dir / "esci-results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print_table(results, model)
    print_table(counted, model, "the counted results (what a shopper sees)")
    print(f"\nevaluation {eval_s:.0f} s on {summary['machine']}")
    if build:
        print(
            f"database built {build['date']}: import {build['import_s']:.0f} s, embedded "
            f"{build['embedded']} products in {build['embed_s']:.0f} s "
            f"({build['embed_per_s']}/s)"
        )
    print(
        f"Runs (TREC format) in {var_dir / 'runs'} and {var_dir / 'runs-counted'}; summary in "
        f"{var_dir / 'esci-results.json'}"
    )
    if args.adapt or args.adapt_run:
        adapt(args, paths, var_dir)


def adapt(args: argparse.Namespace, paths: dict[str, Path], var_dir: Path) -> None:
    import esci_adapt

    if args.adapt_run:
        result = esci_adapt.read_run(args.adapt_run)
    else:
        options = []
        if args.adapt_steps:
            options += ["--steps", str(args.adapt_steps)]
        if args.adapt_reranker:
            options.append("--reranker")
        if args.adapt_reranker_steps:
            options += ["--reranker-steps", str(args.adapt_reranker_steps)]
        log(f"adapting the models: manage.py adapt_models --sync {' '.join(options)}")
        result = esci_adapt.run_adaptation(paths, options)
    if result["status"] != "succeeded":
        raise SystemExit(f"adaptation {result['run']}: {result['status']} {result['message']}")
    rows = esci_adapt.intervals(result, paths["qrels"])
    depths = [int(d) for d in args.rerank_depths.split(",") if d.strip()]
    latency = []
    if result["reranker"] and depths:
        latency = esci_adapt.rerank_latency(paths, result["reranker"], depths)
    summary = {
        **result,
        "intervals": [[what, mode, diffs] for what, mode, diffs in rows],
        "rerank_latency": latency,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    (var_dir / "esci-adapt-results.json").write_text(json.dumps(summary, indent=2) + "\n")
    esci_adapt.print_report(result, rows, latency)


if __name__ == "__main__":
    main()
