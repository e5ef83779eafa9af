"""One bench run: its options, var dir, processes, distinct queries and the results so far."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite.api import wait_for_search
from suite.common import PY, QueryTexts, log
from suite.servers import (
    Children,
    child_env,
    embed_worker_args,
    gunicorn_args,
    machine_description,
    port_free,
    start_embedded,
    stop_embedded,
    wipe_var_dir,
)


class Run:
    """What the phases share. `index` is the active SearchIndex once ingest (or its
    stand-in) made it; `results` is what becomes bench/results/latest.json."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(args.var_dir).resolve()
        self.results: dict = {}
        self.notes: list[str] = []
        self.queries = QueryTexts()
        self.children = Children(self.root / "log")
        self.env: dict[str, str] = {}
        self.index: Any = None
        self.esci: dict[str, Path] = {}  # the converted ESCI files (suite.catalog)
        self.catalog_source: Any = None  # suite.catalog.CatalogSource
        self.ingest_total = 0  # products the ingest phase adds (its own and the warm-up)
        self.started = time.monotonic()

    def prepare(self) -> None:
        """Fresh var dir, embedded servers, environment for every child, Django here."""
        wipe_var_dir(self.root)
        (self.root / "log").mkdir(parents=True)
        t = time.perf_counter()
        database_url, redis_url = start_embedded(self.root, shared_buffers=self.args.shared_buffers)
        log(f"embedded PostgreSQL + Redis up in {time.perf_counter() - t:.1f} s ({self.root})")
        threads = str(self.args.torch_threads)
        self.env = child_env(self.root, database_url, redis_url, threads)
        os.environ.update({k: v for k, v in self.env.items() if k != "PYTHONUNBUFFERED"})
        import django

        django.setup()
        # torch only after OMP_NUM_THREADS is set (main) and Django is set up.
        import torch
        from django.core.management import call_command

        torch.set_num_threads(self.args.torch_threads)
        call_command("migrate", verbosity=0)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            pgvector = cursor.fetchone()[0]
        self.results["meta"] = {
            "command": "make bench  (" + " ".join([Path(PY).name, *sys.argv]) + ")",
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_description(),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "postgres": connection.pg_version // 10000,
            "pgvector": pgvector,
            "torch": torch.__version__,
            "torch_threads_per_process": self.args.torch_threads,
            "var_dir": str(self.root),
        }

    def start_embed_worker(self) -> None:
        self.children.start("worker", embed_worker_args(), self.env)

    def start_web(
        self, name: str, port: int, *, workers: int, remote: bool, env: dict | None = None
    ) -> None:
        """gunicorn on `port`; `env`: what this web's environment changes."""
        if not port_free(port):
            raise SystemExit(f"port {port} is in use; pick another with --port")
        env = {**self.env, **(env or {})}
        env["VITRINE_REMOTE_INFERENCE"] = "1" if remote else "0"
        self.children.start(name, gunicorn_args(port, workers), env)
        t = time.perf_counter()
        wait_for_search(port, lambda: self.children.check(name))
        log(
            f"{name}: gunicorn ({workers} workers) answering on :{port} "
            f"({time.perf_counter() - t:.1f} s)"
        )

    def stop_everything(self) -> None:
        """What the run started: its processes, its database connections, its servers."""
        log("stopping what the bench started")
        self.children.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        try:
            stop_embedded(self.root)
        except Exception as exc:
            log(f"could not stop the embedded servers: {exc}")
