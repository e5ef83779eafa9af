"""The shop the soak runs: `make run`'s stack (embedded PostgreSQL + Redis, migrate, one Celery
worker with beat inside it, `runserver`, the demo catalog, a reindex) in its own var dir, plus
gunicorn with 2+ workers, which the shoppers use. The soak supervises it: a child that dies
when no fault killed it is restarted and counted as unexpected.

The var dir's `media/` is a small tmpfs for the run (the disk-full fault fills it); it is
unmounted at the end whatever happens."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
from suite.common import PY, ROOT
from suite.servers import Children, child_env, gunicorn_args, port_free

from config import embedded

MANAGE = str(ROOT / "manage.py")
POISON_MODULE = "tests.support.poison_tasks"  # loaded into the worker for the poison fault
KINDS = ("web", "worker", "worker_pool", "beat", "postgres", "postgres_checkpointer", "redis")
POOL_ASK_EVERY_S = 30.0  # the worker is asked for its pool's pids at most this often...


def say(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


def worker_args(root: Path) -> list[str]:
    """The worker as `make run` starts it (config/stack.py), plus the poison task's module."""
    args = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "embed,default,imports"]
    args += ["-c", "1", "--loglevel", "INFO", "-n", "vitrine-soak@%h"]
    args += ["-B", "-s", str(root / "run" / "celerybeat-schedule")]
    return args + ["--include", POISON_MODULE]


def soak_settings(run_s: float) -> dict[str, str]:
    """Documented settings the soak changes (docs/CONFIGURATION.md): throttles lifted (one
    loopback address sends everything), recovery timers scaled to the run's length so each
    fault's recovery happens within it."""
    return {
        "VITRINE_ANON_THROTTLE": "100000000/min",
        "VITRINE_STOREFRONT_THROTTLE": "",
        "VITRINE_SERVE_MEDIA": "1",
        "VITRINE_SWEEP_INTERVAL_S": "60",
        "VITRINE_SWEEP_COOLDOWN_S": str(int(min(3600, max(120, run_s / 6)))),
        "VITRINE_VISIBILITY_TIMEOUT_S": "300",
        "VITRINE_IMPORT_STALL_S": "120",
        "VITRINE_ANALYTICS_DRAIN_S": "5",
    }


class Stack:
    def __init__(self, root: Path, *, port: int, gunicorn_workers: int, run_s: float) -> None:
        self.root = root
        self.port = port  # runserver, as `make run`; gunicorn on port + 1
        self.gunicorn_port = port + 1
        self.gunicorn_workers = gunicorn_workers
        self.run_s = run_s
        self.children = Children(root / "log")
        self.env: dict[str, str] = {}
        self.media = root / "media"
        self.media_mounted = False
        self.media_note = ""
        self.expected_down: set[str] = set()  # children a fault is restarting right now
        self.unexpected_exits: list[str] = []
        self.restarts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self.pg_user = "pgserver" if os.geteuid() == 0 else None
        # The worker's pool pids, as the worker last said them: (main pid, pids, when asked).
        self._pool: tuple[int, set[int], float] = (0, set(), 0.0)
        self._beat: tuple[int, float] | None = None  # (pid, create time) once told apart

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gunicorn_port}"

    @property
    def runserver_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- start -------------------------------------------------------------------------------

    def start(self, *, demo_limit: int) -> None:
        wipe(self.root)
        (self.root / "log").mkdir(parents=True)
        (self.root / "run").mkdir(parents=True)
        self.mount_media()
        for port in (self.port, self.gunicorn_port):
            if not port_free(port):
                raise SystemExit(f"port {port} is in use; pick another with --port")
        database_url = embedded.ensure_postgres(self.root)
        redis_url = embedded.ensure_redis(self.root, stop_at_exit=False)
        say(f"PostgreSQL and Redis up in {self.root}")
        self.env = child_env(self.root, database_url, redis_url, "1")
        self.env.update(soak_settings(self.run_s))
        os.environ.update({k: v for k, v in self.env.items() if k != "PYTHONUNBUFFERED"})
        self.step(["migrate", "--noinput"])
        self.start_worker()
        self.children.start(
            "runserver", [PY, MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"], self.env
        )
        self.step(["load_demo", "--if-empty", "--limit", str(demo_limit)])
        self.step(["reindex", "--timeout", "600"])
        self.children.start(
            "gunicorn", gunicorn_args(self.gunicorn_port, self.gunicorn_workers), self.env
        )
        self._watch = threading.Thread(target=self._supervise, daemon=True, name="supervisor")
        self._watch.start()

    def step(self, args: list[str]) -> None:
        say(f"manage.py {' '.join(args)}")
        log = open(self.root / "log" / "steps.log", "ab")  # noqa: SIM115
        with log:
            done = subprocess.run(
                [PY, MANAGE, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed; see {self.root / 'log/steps.log'}")

    def start_worker(self) -> None:
        self.children.start("worker", worker_args(self.root), self.env)

    def mount_media(self) -> None:
        """A 64 MiB tmpfs over media/ (the disk-full fault fills it). Without mount rights the
        fault is skipped, and the verdict says so."""
        self.media.mkdir(parents=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64m,mode=0777", "tmpfs", str(self.media)],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            self.media_mounted = True
            self.media_note = "tmpfs of 64 MiB mounted over media/"
        else:
            self.media_note = f"not mounted ({done.stderr.strip() or 'mount failed'})"
        say(f"media: {self.media_note}")

    def unmount_media(self) -> None:
        if not self.media_mounted:
            return
        done = subprocess.run(["umount", str(self.media)], capture_output=True, text=True)
        if done.returncode != 0:  # something still holds a file there: detach it anyway
            subprocess.run(["umount", "-l", str(self.media)], capture_output=True)
        self.media_mounted = os.path.ismount(self.media)

    # --- supervision ---------------------------------------------------------------------------

    def _supervise(self) -> None:
        """Restart a child that exited while no fault was restarting it (and count it)."""
        while not self._stop.wait(1.0):
            for name in ("worker", "runserver", "gunicorn"):
                with self._lock:
                    proc = self.children.procs.get(name)
                    if name in self.expected_down or proc is None or proc.poll() is None:
                        continue
                    self.unexpected_exits.append(f"{name} exited with {proc.returncode}")
                    say(f"{name} exited unexpectedly ({proc.returncode}); restarting it")
                    self.children.stop(name, grace=2)
                    self._restart(name)

    def _restart(self, name: str) -> None:
        self.restarts[name] = self.restarts.get(name, 0) + 1
        if name == "worker":
            self.start_worker()
        elif name == "gunicorn":
            self.children.start(
                "gunicorn", gunicorn_args(self.gunicorn_port, self.gunicorn_workers), self.env
            )
        else:
            args = [PY, MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"]
            self.children.start("runserver", args, self.env)

    def kill_worker_group(self) -> None:
        """kill -9 of the whole worker (main process, pool, beat), then start it again, as a
        process supervisor (systemd, Docker's restart policy) would."""
        with self._lock:
            self.expected_down.add("worker")
            proc = self.children.procs["worker"]
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)
        time.sleep(3)
        with self._lock:
            self.children.procs.pop("worker", None)
            self._restart("worker")
            self.expected_down.discard("worker")

    # --- processes by kind ------------------------------------------------------------------

    def processes(self) -> dict[str, list[psutil.Process]]:
        """The live processes of each kind: web (runserver, gunicorn's master and workers),
        worker (Celery's main process), worker_pool (its prefork pool), beat (the beat process
        `-B` forks beside the pool, as `make run` starts it), postgres, postgres_checkpointer
        (apart: see checks.resource_verdict), redis."""
        found: dict[str, list[psutil.Process]] = {kind: [] for kind in KINDS}
        for name in ("runserver", "gunicorn", "worker"):
            proc = self.children.procs.get(name)
            if proc is None:
                continue
            try:
                top = psutil.Process(proc.pid)
                tree = [top, *top.children(recursive=True)]
            except psutil.Error:
                continue
            if name != "worker":
                found["web"] += tree
                continue
            found["worker"].append(top)
            for kind, p in self._worker_children(top.pid, tree[1:]):
                found[kind].append(p)
        pg = str(self.root / "pg")
        redis_sock = str(self.root / "redis")
        for p in psutil.process_iter(["name", "cmdline"]):
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                if p.info["name"] == "postgres" and _postmaster_of(p, pg):
                    kind = "postgres_checkpointer" if "checkpointer" in cmd else "postgres"
                    found[kind].append(p)
                elif "redis-server" in cmd and redis_sock in cmd:
                    found["redis"].append(p)
            except psutil.Error:
                continue
        return found

    def _worker_children(self, main: int, children: list[psutil.Process]) -> list:
        """(kind, process) for the worker's children: pool or beat. Both are forks of the main
        process and look alike from outside (same command line; no process title without
        setproctitle), so the worker is asked which pids its pool has. Beat is the one child
        left when every pool pid it named is there and nothing else is (a pool process being
        replaced right then is not taken for beat); once known it is remembered by pid and
        start time (it lives as long as the main process)."""
        if self._pool[0] != main:  # a new worker (restarted): its beat is a new process
            self._beat = None
        keyed = []
        for p in children:
            try:
                keyed.append(((p.pid, p.create_time()), p))
            except psutil.Error:
                continue
        others = [p for key, p in keyed if key != self._beat]
        pool_main, pool, asked = self._pool
        unknown = [p for p in others if p.pid not in pool]
        if pool_main != main or (unknown and time.monotonic() - asked > POOL_ASK_EVERY_S):
            pool = self.ask_pool(main)
            unknown = [p for p in others if p.pid not in pool]
        if (
            self._beat is None
            and pool
            and len(unknown) == 1
            and pool <= {p.pid for p in others}
            and unknown[0].ppid() == main
        ):
            self._beat = (unknown[0].pid, unknown[0].create_time())
        # A child not known yet (the worker did not answer) is counted with the pool.
        return [("beat" if key == self._beat else "worker_pool", p) for key, p in keyed]

    def ask_pool(self, main: int) -> set[int]:
        """The pool's pids, from the worker itself (`celery inspect stats`)."""
        from config.celery import app

        pool: set[int] = set()
        try:
            for stats in (app.control.inspect(timeout=2.0).stats() or {}).values():
                if stats.get("pid") == main:
                    pool = {int(pid) for pid in stats["pool"]["processes"]}
        except Exception:
            pool = set()
        if pool:
            self._pool = (main, pool, time.monotonic())
        return pool

    def gunicorn_workers_pids(self) -> list[int]:
        proc = self.children.procs.get("gunicorn")
        try:
            return [c.pid for c in psutil.Process(proc.pid).children()] if proc else []
        except psutil.Error:
            return []

    def pool_pids(self) -> list[int]:
        """The worker's pool processes (never beat, which runs beside them)."""
        return [p.pid for p in self.processes()["worker_pool"]]

    # --- stop --------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        if self._watch:
            self._watch.join(5)
        with self._lock:
            self.children.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        try:
            embedded.stop_redis(self.root)
        except Exception as exc:
            say(f"could not stop Redis: {exc}")
        try:
            if (self.root / "pg").is_dir() and embedded.postgres_running(self.root):
                embedded.stop_postgres(self.root)
        except Exception as exc:
            say(f"could not stop PostgreSQL: {exc}")
        self.unmount_media()


def _postmaster_of(proc: psutil.Process, pgdata: str) -> bool:
    """A postgres process of this var dir: the postmaster (-D pgdata) or one of its children."""
    try:
        for p in (proc, *proc.parents()[:1]):
            if pgdata in " ".join(p.cmdline()):
                return True
    except psutil.Error:
        return False
    return False


def wipe(root: Path) -> None:
    """Remove a previous soak's var dir, stopping what a killed soak left in it; only soak
    var dirs are wiped."""
    if not root.name.startswith("vt-soak"):
        raise SystemExit(f"refusing to wipe {root}: use a /tmp/vt-soak* var dir")
    if not root.exists():
        return
    embedded.stop_redis(root)
    if (root / "pg").is_dir() and embedded.postgres_running(root):
        embedded.stop_postgres(root)
    if os.path.ismount(root / "media"):
        subprocess.run(["umount", "-l", str(root / "media")], capture_output=True)
    shutil.rmtree(root)
