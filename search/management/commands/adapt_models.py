"""Adapt the active embedder (and train a reranker) to the catalog, build a new index with it
beside the active one, and measure both; activation stays an explicit `reindex --activate`."""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from search.adaptation import services
from search.models import AdaptationRun


class Command(BaseCommand):
    help = (
        "Fine-tune the active embedder on pseudo-queries made from the catalog (and shoppers' "
        "clicks), train a small reranker on the same pairs, save both under VAR_DIR/models/, "
        "and build a NEW search index with the adapted embedder without activating it. With "
        "--queries/--qrels both indexes are measured (evaluate_search). Runs on a worker (the "
        "'embed' queue by default) unless --sync. Activate with `reindex --activate ID`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--steps", type=int, help="training steps (default 300)")
        parser.add_argument("--batch-size", type=int, help="pairs per step (default 32)")
        parser.add_argument("--lr", type=float, help="learning rate (default 1e-5)")
        parser.add_argument(
            "--average",
            type=float,
            help="weight of the fine-tuned model in the saved average with the original "
            "(WiSE-FT; 0 = the original, 1 = fine-tuned only; default 0.5)",
        )
        parser.add_argument(
            "--reranker",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="also train a cross-encoder reranker (default: no, VITRINE_ADAPT_RERANKER)",
        )
        parser.add_argument("--reranker-steps", type=int, help="reranker steps (default 200)")
        parser.add_argument("--queries", type=Path, help="judged queries (qid<TAB>query)")
        parser.add_argument("--qrels", type=Path, help="their judgments (qid<TAB>sku<TAB>grade)")
        parser.add_argument("--sync", action="store_true", help="run here, not on a worker")
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")
        parser.add_argument("--json", action="store_true", help="print the run as JSON last")

    def handle(self, *args, **opts) -> None:
        if bool(opts["queries"]) != bool(opts["qrels"]):
            raise CommandError("--queries and --qrels go together: give both or neither.")
        for name in ("queries", "qrels"):
            if opts[name] and not opts[name].is_file():
                raise CommandError(f"--{name}: no such file: {opts[name]}")
        try:
            options = services.adaptation_options(
                steps=opts["steps"],
                batch_size=opts["batch_size"],
                lr=opts["lr"],
                average=opts["average"],
                reranker=opts["reranker"],
                reranker_steps=opts["reranker_steps"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        paths = {n: str(opts[n].resolve()) if opts[n] else "" for n in ("queries", "qrels")}
        if opts["sync"]:
            run = AdaptationRun.objects.create(
                options=options, queries_path=paths["queries"], qrels_path=paths["qrels"]
            )
            self.stdout.write(f"Adaptation {run.pk}: running here…")
            # The run in a thread of its own, so this one shows its progress as a worker's.
            here = threading.Thread(target=_run_here, args=(run.pk,), name="adapt-models")
            here.start()
            run = self._wait(run, alive=here.is_alive)
            here.join()
            run.refresh_from_db()
        else:
            run = services.start_adaptation(options=options, **paths)
            self.stdout.write(f"Adaptation {run.pk} sent to a worker.")
            if opts["no_wait"]:
                return
            run = self._wait(run)
        self._report(run, as_json=opts["json"])

    def _wait(self, run: AdaptationRun, alive=lambda: True) -> AdaptationRun:
        with tqdm(total=1, unit="step", disable=None) as bar:
            while alive() and run.status in (
                AdaptationRun.Status.QUEUED,
                AdaptationRun.Status.RUNNING,
            ):
                time.sleep(1)
                run.refresh_from_db()
                bar.set_description(run.stage or run.status)
                bar.total, bar.n = max(run.total_steps, 1), run.done_steps
                bar.refresh()
        return run

    def _report(self, run: AdaptationRun, *, as_json: bool) -> None:
        if run.status == AdaptationRun.Status.SKIPPED:
            self.stdout.write(self.style.WARNING(f"Skipped: {run.message}"))
        elif run.status == AdaptationRun.Status.FAILED:
            raise CommandError(f"adaptation {run.pk} failed: {run.error}")
        else:
            self.stdout.write(self.style.SUCCESS(f"Models saved in {run.model_dir}"))
            if run.reranker_path:
                self.stdout.write(f"Reranker: VITRINE_RERANKER={run.reranker_path}")
            for name, figures in run.figures.items():
                hybrid = figures.get("hybrid", {})
                self.stdout.write(
                    f"{name:<20} index {figures['index']}: hybrid NDCG@10 "
                    f"{hybrid.get('ndcg@10', 0):.4f}, vector NDCG@10 "
                    f"{figures.get('vector', {}).get('ndcg@10', 0):.4f}"
                )
            if run.index_id:
                self.stdout.write(
                    f"New index {run.index_id} is built and NOT active. Activate it with: "
                    f"manage.py reindex --activate {run.index_id}"
                    + (
                        f" (roll back with --activate {run.baseline_index_id})"
                        if run.baseline_index_id
                        else ""
                    )
                )
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "run": run.pk,
                        "status": run.status,
                        "index": run.index_id,
                        "baseline_index": run.baseline_index_id,
                        "model_dir": run.model_dir,
                        "reranker": run.reranker_path,
                        "training_pairs": run.training_pairs,
                        "held_aside": run.held_aside,
                        "timings": run.timings,
                        "figures": run.figures,
                        "message": run.message,
                    }
                )
            )


def _run_here(run_id: int) -> None:
    try:
        services.run_adaptation(run_id=run_id)
    finally:
        connection.close()  # this thread's own connection
