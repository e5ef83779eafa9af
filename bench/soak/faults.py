"""The faults, injected one at a time on a schedule, each several times over the run. Each
records its window: from the moment it starts to the moment the shop is confirmed whole again,
plus SETTLE_S (requests already in flight when it recovered finish inside the window)."""

from __future__ import annotations

import errno
import os
import random
import signal
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

import psutil
import requests

from config import embedded
from soak.stack import Stack, say

SETTLE_S = 10.0
LONG_RUN_S = 1800.0  # a run this long gets a quiet second half (see schedule)
EMBED_TASK = "search.tasks.embed_products"
KILL_IMPORT_ROWS = 64  # the worker-kill's import: batches long enough to be caught running
BUSY_WAIT_S = 120.0
KINDS = (
    "worker_kill",
    "redis_kill",
    "postgres_restart_fast",
    "postgres_restart_immediate",
    "web_worker_kill",
    "poison_task",
    "media_disk_full",
)


@dataclass
class Window:
    kind: str
    start: float
    end: float = 0.0
    detail: dict = field(default_factory=dict)
    ok: bool = True


def schedule(run_s: float, *, seed: int = 1) -> list[tuple[float, str]]:
    """(seconds after the traffic starts, fault) for the run: every kind `rounds` times,
    shuffled within each round, spread evenly between 15% and 85% of the run (the tail lets
    the shop settle before the checks). 60 minutes: each fault 3 times; 10 minutes: once.

    A run of 30 minutes or more puts its faults between 10% and 50% of it instead: the faults
    restart every pool process and PostgreSQL, so only a quiet second half (traffic and admin
    work go on) leaves a last generation old enough to judge by the flatness rule, minutes
    5-15 of its life against its last ten (see checks.resource_verdict)."""
    rounds = max(1, round(run_s / 1200))
    rng = random.Random(seed)
    order: list[str] = []
    for _ in range(rounds):
        kinds = list(KINDS)
        rng.shuffle(kinds)
        order += kinds
    first, last = (
        (0.10 * run_s, 0.50 * run_s) if run_s >= LONG_RUN_S else (0.15 * run_s, 0.85 * run_s)
    )
    step = (last - first) / max(1, len(order) - 1)
    return [(first + i * step, kind) for i, kind in enumerate(order)]


class Faults(threading.Thread):
    def __init__(
        self, stack: Stack, admin, t0: float, plan: list[tuple[float, str]], stop: threading.Event
    ) -> None:
        super().__init__(daemon=True, name="faults")
        self.stack = stack
        self.admin = admin
        self.t0 = t0
        self.plan = plan
        self.stop = stop
        self.windows: list[Window] = []
        self.skipped: list[str] = []
        self.counts: dict[str, int] = {}
        self.poison_ids: list[str] = []
        self.killed_batches: list[list[int]] = []  # products of the batches killed mid-run

    def run(self) -> None:
        for at, kind in self.plan:
            while not self.stop.is_set() and time.monotonic() - self.t0 < at:
                self.stop.wait(0.5)
            if self.stop.is_set():
                return
            window = Window(kind, time.time())
            say(f"fault: {kind}")
            try:
                getattr(self, kind)(window)
            except Exception as exc:  # a fault that could not be done or recovered is a failure
                window.ok = False
                window.detail["error"] = f"{exc.__class__.__name__}: {exc}"
                say(f"fault {kind} went wrong: {window.detail['error']}")
            window.end = time.time() + SETTLE_S
            self.windows.append(window)
            self.counts[kind] = self.counts.get(kind, 0) + 1
            took = window.end - window.start - SETTLE_S
            say(f"fault {kind} over in {took:.1f} s: {window.detail}")
            self.stop.wait(SETTLE_S)

    # --- the faults ----------------------------------------------------------------------

    def worker_kill(self, w: Window) -> None:
        """kill -9 mid-batch: an import of KILL_IMPORT_ROWS rows is requested, then the kill
        waits (up to BUSY_WAIT_S) until the worker says it is executing an embedding batch
        (`celery inspect active`), and kills it there. Every other time the whole worker
        (main process, pool, beat) dies and the soak restarts it; otherwise only the pool
        process running the batch, which Celery's main process replaces. The batch's products
        are kept: the end check proves each is indexed from its current document."""
        self.admin.next_import_rows = KILL_IMPORT_ROWS
        self.admin.import_now.set()
        whole = self.counts.get("worker_kill", 0) % 2 == 0
        w.detail["what"] = "whole worker (main, pool, beat)" if whole else "pool process"
        t = time.monotonic()
        batch = self._wait_embedding(BUSY_WAIT_S)
        w.detail["busy"] = batch is not None
        if batch is None:
            w.detail["busy_wait_s"] = round(time.monotonic() - t, 1)
            say(f"worker_kill: no embedding batch seen within {BUSY_WAIT_S:.0f} s; killing anyway")
        else:
            w.detail["batch"] = {
                "task_id": batch["id"],
                "products": len(batch["product_ids"]),
                "running_s": batch["running_s"],
            }
            self.killed_batches.append(batch["product_ids"])
        if whole:
            self.stack.kill_worker_group()
        else:
            pids = [batch["worker_pid"]] if batch else self.stack.pool_pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._wait_worker_answers(120)

    def _wait_embedding(self, timeout: float) -> dict | None:
        """The embedding batch the worker is executing, once it executes one."""
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                active = app.control.inspect(timeout=1.0).active() or {}
            except Exception:
                active = {}
            for tasks in active.values():
                for task in tasks:
                    args = task.get("args") or []
                    # A batch of several products, not an edit's one product, while time allows
                    least = 8 if time.monotonic() < deadline - 30 else 1
                    if task.get("name") == EMBED_TASK and args and len(args[0] or ()) >= least:
                        started = task.get("time_start") or time.time()
                        return {
                            "id": task["id"],
                            "product_ids": list(args[0]),
                            "worker_pid": task.get("worker_pid"),
                            "running_s": round(max(0.0, time.time() - started), 2),
                        }
            time.sleep(0.2)
        return None

    def redis_kill(self, w: Window) -> None:
        pid = int((self.stack.root / "redis" / "redis.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        time.sleep(5)
        embedded.ensure_redis(self.stack.root, stop_at_exit=False)
        w.detail["down_s"] = 5
        self._wait_worker_answers(120)

    def postgres_restart_fast(self, w: Window) -> None:
        self._restart_postgres("fast", w)

    def postgres_restart_immediate(self, w: Window) -> None:
        self._restart_postgres("immediate", w)

    def _restart_postgres(self, mode: str, w: Window) -> None:
        import pgserver

        t = time.monotonic()
        pgserver.pg_ctl(
            ["-w", "-m", mode, "restart"], pgdata=self.stack.root / "pg", user=self.stack.pg_user
        )
        w.detail["restart_s"] = round(time.monotonic() - t, 2)
        self._wait_http_ok(60)

    def web_worker_kill(self, w: Window) -> None:
        workers = self.stack.gunicorn_workers_pids()
        victim = random.choice(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = self.stack.gunicorn_workers_pids()
            if len(now) >= self.stack.gunicorn_workers and victim not in now:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("gunicorn did not replace the killed worker within 60 s")
        w.detail["respawned"] = True
        self._wait_http_ok(60)

    def poison_task(self, w: Window) -> None:
        """A task that kills its worker process on every delivery: it must end parked."""
        from search.parking.models import ParkedTask
        from tests.support import poison_tasks

        token = f"soak-{uuid.uuid4().hex}"
        sent = poison_tasks.crash_the_worker.apply_async(args=[token], queue="default")
        self.poison_ids.append(sent.id)
        deadline = time.monotonic() + 300
        try:
            while time.monotonic() < deadline:
                if ParkedTask.objects.filter(task_id=sent.id).exists():
                    break
                time.sleep(1)
            else:
                raise RuntimeError("the poison task was not parked within 300 s")
            w.detail["runs"] = poison_tasks.runs(token)
        finally:
            from django.db import connection

            connection.close()
        self._wait_worker_answers(120)

    def media_disk_full(self, w: Window) -> None:
        """Fill media/ (a tmpfs) to the last byte, ask for an import meanwhile, hold 30 s, free."""
        if not self.stack.media_mounted:
            self.skipped.append(f"media_disk_full: {self.stack.media_note}")
            w.detail["skipped"] = self.stack.media_note
            return
        filler = self.stack.media / ".soak-filler"
        written = 0
        with open(filler, "wb", buffering=0) as out:
            for size in (1 << 20, 4096):  # megabytes, then pages: not even a small photo fits
                while written < 512 << 20:
                    try:
                        written += out.write(b"\0" * size)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        w.detail["filled_mb"] = round(written / 2**20, 1)
        self.admin.import_now.set()
        time.sleep(30)
        filler.unlink(missing_ok=True)
        w.detail["free_mb"] = round(psutil.disk_usage(str(self.stack.media)).free / 2**20, 1)

    # --- waiting for recovery --------------------------------------------------------------

    def _wait_worker_answers(self, timeout: float) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if app.control.ping(timeout=1.0):
                    return
            except Exception:
                pass
            time.sleep(1)
        raise RuntimeError(f"no Celery worker answered within {timeout:.0f} s")

    def _wait_http_ok(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(
                    f"{self.stack.url}/api/v1/search", params={"q": "shirt"}, timeout=10
                ).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"search did not answer 200 within {timeout:.0f} s")

    def report(self) -> list[dict]:
        return [
            {
                **asdict(w),
                "start": round(w.start, 1),
                "end": round(w.end, 1),
                "s": round(w.end - w.start - SETTLE_S, 1),
            }
            for w in self.windows
        ]
