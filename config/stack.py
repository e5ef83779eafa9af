"""`make run` / `make stop`: the whole Vitrine stack on this machine, supervised in the foreground.

    python -m config.stack run    # embedded Postgres + Redis, migrate, a Celery worker (with
                                  # beat for the sweeper), the web server and the demo
                                  # catalog; Ctrl-C stops all of it
    python -m config.stack stop   # stops the stack of this var dir, or cleans up after one that
                                  # was killed (kill -9, a closed laptop, a crash)

The runner never imports Django settings: it starts the embedded servers through
`config.embedded` and hands `DATABASE_URL` / `REDIS_URL` to every child, so no child ever starts
or stops a server of its own (their bootstrap finds both set). Children run in their own process
groups, so a Ctrl-C reaches the runner only and the runner shuts them down in order: web and
worker first, then Redis, then Postgres. `var/run/stack.json` says what runs;
`var/log/{web,worker}.log` keep their output, which is also streamed to the terminal with a
`[web] ` / `[worker] ` prefix. The process plumbing (finding, stopping and streaming children)
is in `config.processes`.

Environment: `VITRINE_VAR_DIR` (default ./var), `VITRINE_HOST` (127.0.0.1), `VITRINE_PORT`
(8000), `VITRINE_DEMO` (on; `0` skips the demo catalog), `VITRINE_DEMO_LIMIT` (products the
demo loads; unset = the command's default).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path

import psutil

from config import embedded, env
from config.processes import (
    create_time,
    echo,
    groups_alive,
    port_free,
    processes_marked,
    pump,
    same_process,
    terminate,
)

BASE_DIR = env.BASE_DIR
MANAGE = str(BASE_DIR / "manage.py")
STOP_GRACE_S = 10.0
# Every child inherits it: `stop` finds what a killed runner left (Celery's pool included).
STACK_ID = "VITRINE_STACK_ID"
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver, harmless


def say(message: str) -> None:
    """One line from the runner itself."""
    echo(f"[stack] {message}")


def _state_path(root: Path) -> Path:
    return root / "run" / "stack.json"


def _read_state(root: Path) -> dict | None:
    try:
        return json.loads(_state_path(root).read_text())
    except (OSError, ValueError):
        return None


def _write_state(root: Path, state: dict) -> None:
    path = _state_path(root)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, path)


# --- run ----------------------------------------------------------------------------------


# What the worker's pool process logs once it has loaded its models (search.tasks).
POOL_STARTED = "pool process started"


def _when_ready(line: str, ready: threading.Event, pool_started: threading.Event) -> None:
    """Celery's worker logs "celery@<name> ready." once it takes tasks, which is before its
    pool process has loaded the model (its first task would, taking a core from the first
    searches): both are waited for."""
    if line.rstrip().endswith(" ready."):
        ready.set()
    if POOL_STARTED in line:
        pool_started.set()


class _Stop(Exception):
    """A signal asked the runner to stop (exit 0)."""


class _Died(Exception):
    """The worker or the web server exited on its own (exit 1)."""


class Stack:
    def __init__(self, root: Path, host: str, port: int) -> None:
        self.root = root
        self.host = host
        self.port = port
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        self.url = f"http://{shown}:{port}"
        self.stack_id = f"{os.getpid()}-{time.time():.0f}"
        self.services: dict[str, subprocess.Popen] = {}  # worker, web: must stay up
        self.steps: dict[str, subprocess.Popen] = {}  # migrate, load_demo, reindex
        self.threads: list[threading.Thread] = []
        self.signal_name: str | None = None
        self.env: dict[str, str] = {}
        self.log_dir = root / "log"

    # -- signals and state --

    def on_signal(self, signum: int, _frame) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name
        else:
            say("already stopping; please wait")

    def check(self) -> None:
        """Called at every poll: a pending signal or a dead service ends the run."""
        if self.signal_name:
            raise _Stop(self.signal_name)
        for name, proc in self.services.items():
            code = proc.poll()
            if code is not None:
                raise _Died(f"the {name} exited unexpectedly (exit code {code})")

    def save_state(self) -> None:
        def entry(proc: subprocess.Popen) -> dict:
            return {"pid": proc.pid, "create_time": create_time(proc.pid)}

        _write_state(
            self.root,
            {
                "runner": os.getpid(),
                "runner_create_time": create_time(os.getpid()),
                "stack_id": self.stack_id,
                "var_dir": str(self.root),
                "url": self.url,
                **{name: proc.pid for name, proc in self.services.items()},
                "children": {
                    name: entry(proc) for name, proc in {**self.services, **self.steps}.items()
                },
            },
        )

    # -- children --

    def _spawn(
        self,
        name: str,
        args: list[str],
        *,
        stream: bool,
        env: dict | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> subprocess.Popen:
        """Start a child in its own process group. `stream`: prefix its output and keep it in
        var/log/<name>.log; otherwise it shares the terminal (so progress bars work). `env`:
        variables of this child only, over the stack's."""
        kwargs: dict = {
            "cwd": BASE_DIR,
            "env": {**self.env, **(env or {})},
            "stdin": subprocess.DEVNULL,
        }
        if stream:
            kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        proc = subprocess.Popen(args, process_group=0, **kwargs)
        if stream:
            thread = threading.Thread(
                target=pump,
                args=(name, proc.stdout, self.log_dir / f"{name}.log", on_line),
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)
        return proc

    def step(self, name: str, args: list[str]) -> int:
        """A one-shot command that the runner waits for, supervising the services meanwhile."""
        say(f"{name}: {' '.join(args[1:])}")
        proc = self._spawn(name, [sys.executable, *args], stream=False)
        self.steps[name] = proc
        self.save_state()
        try:
            while proc.poll() is None:
                self.check()
                time.sleep(0.2)
        finally:
            if proc.poll() is not None:
                del self.steps[name]
        self.save_state()
        return proc.returncode

    def wait_for_web(self, timeout: float = 300) -> None:
        """Until the web listens: it loads its models and runs one search first
        (search/warmup.py), which a large model on a CPU takes minutes to."""
        deadline = time.monotonic() + timeout
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "::1" if host == "::" else host
        while True:
            self.check()
            try:
                with socket.create_connection((host, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise _Died(
                        f"the web server did not listen on {self.url} within {timeout:.0f} s"
                    ) from None
                time.sleep(0.2)

    def wait_for_worker(
        self, ready: threading.Event, pool_started: threading.Event, timeout: float = 300
    ) -> None:
        """Until the worker says it is ready (Celery's "ready." line: connected, its pool
        started, the heavy imports done) and its pool process has loaded its models, or
        `timeout`: a worker that takes longer is reported, and the shop starts anyway."""
        deadline = time.monotonic() + timeout
        while not (ready.wait(0.2) and pool_started.wait(0.2)):
            self.check()
            if time.monotonic() > deadline:
                say(f"the worker was not ready within {timeout:.0f} s; starting without it")
                return
        say("worker ready")

    def health(self, timeout: float = 30) -> tuple[int, dict]:
        """Poll /healthz until ready (an empty catalog is: it reports its index as "empty"),
        or `timeout`; return the last answer."""
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as resp:
                    code, body = resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                code = exc.code
                try:
                    body = json.loads(exc.read())
                except ValueError:
                    body = {}
            except (OSError, ValueError) as exc:
                code, body = 0, {"error": str(exc)}
            if code == 200 or time.monotonic() > deadline:
                return code, body
            time.sleep(0.5)

    # -- the run --

    def start(self) -> int:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "run").mkdir(parents=True, exist_ok=True)
        self.save_state()  # `stop` can find the runner from the first second on

        t0 = time.monotonic()
        say(f"var dir {self.root}")
        database_url = embedded.ensure_postgres(self.root)
        say(f"PostgreSQL up ({time.monotonic() - t0:.1f} s)")
        self.check()
        redis_url = embedded.ensure_redis(self.root, stop_at_exit=False)
        say(f"Redis up ({redis_url})")
        self.check()

        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "VITRINE_VAR_DIR": str(self.root),
            STACK_ID: self.stack_id,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
        }

        if self.step("migrate", [MANAGE, "migrate", "--noinput"]) != 0:
            raise _Died("migrate failed (see above)")

        py = sys.executable
        worker = [py, "-m", "celery", "-A", "config", "worker", "-Q", "embed,default,imports"]
        worker += ["-c", "1", "--loglevel", "INFO", "-n", "vitrine@%h"]
        # -B: Celery beat inside the worker (the periodic sweeper); one machine, one beat.
        worker += ["-B", "-s", str(self.root / "run" / "celerybeat-schedule")]
        worker_ready, pool_started = threading.Event(), threading.Event()
        if not env.env_bool("VITRINE_WORKER_PRELOAD_MODELS", True):
            pool_started.set()  # nothing to wait for: the first task loads the model
        self.services["worker"] = self._spawn(
            "worker",
            worker,
            stream=True,
            on_line=lambda line: _when_ready(line, worker_ready, pool_started),
        )
        web = [py, MANAGE, "runserver", f"{self.host}:{self.port}", "--noreload"]
        # The development server answers each request in a new thread, so a persistent
        # connection would outlive its thread and pile up until PostgreSQL refuses more (seen
        # under 4 concurrent clients): Django's advice, no persistent connections there.
        web_env = {"VITRINE_DB_CONN_MAX_AGE": os.environ.get("VITRINE_DB_CONN_MAX_AGE", "0")}
        self.services["web"] = self._spawn("web", web, stream=True, env=web_env)
        self.save_state()
        self.wait_for_web()
        say(f"web server listening ({time.monotonic() - t0:.1f} s since start)")
        # The worker loads its model too: until it has, it takes a core from the first searches.
        self.wait_for_worker(worker_ready, pool_started)

        problems = []
        if env.env_bool("VITRINE_DEMO", True):
            load = [MANAGE, "load_demo", "--if-empty"]
            limit = os.environ.get("VITRINE_DEMO_LIMIT", "").strip()
            if limit:
                load += ["--limit", limit]
            if self.step("load_demo", load) != 0:
                problems.append("loading the demo catalog failed (see above)")
            elif self.step("reindex", [MANAGE, "reindex"]) != 0:
                problems.append("indexing the catalog failed (see above)")
        else:
            say("VITRINE_DEMO=0: no demo catalog")

        code, report = self.health()
        self.banner(code, report, problems, time.monotonic() - t0)
        for problem in problems:
            say(f"ERROR: {problem}; the shop runs without it")

        while True:
            self.check()
            time.sleep(0.2)

    def banner(self, code: int, report: dict, problems: list[str], took: float) -> None:
        lines = [f"Vitrine is up at {self.url} — Ctrl-C to stop  (ready in {took:.0f} s)"]
        if code == 200:
            model = report.get("model", {})
            index = report.get("index", {})
            lines.append(
                f"healthy: model {model.get('embedder')}, {index.get('indexed', '?')} products "
                "indexed"
            )
            if index.get("state") == "empty":
                lines.append(
                    "no products yet: add some in the admin (Import catalog) or with "
                    "manage.py import_catalog FILE"
                )
        else:
            lines.append(f"/healthz says {code or 'nothing'}: not healthy yet")
            for part, value in report.items():
                if isinstance(value, dict) and not value.get("ok", True):
                    lines.append(f"  {part}: {value.get('error', 'not ok')}")
        for problem in problems:
            lines.append(f"ERROR: {problem}")
        lines.append(f"logs: {self.log_dir}/{{web,worker}}.log; stop from elsewhere: make stop")
        width = max(len(line) for line in lines) + 4
        echo("=" * width, *(f"  {line}" for line in lines), "=" * width)

    def shutdown(self) -> None:
        """Children first (SIGTERM, then SIGKILL to the whole process group after the grace),
        then Redis, then Postgres, then the state file."""
        children = [*self.steps.values(), *self.services.values()]
        groups = [p.pid for p in children]
        # SIGTERM to each group leader only: Celery's main process then stops its pool in
        # order (a SIGTERM straight to the pool child makes it fork a replacement first).
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
            else:  # the leader is gone; whatever it left in its group gets the signal itself
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and groups_alive(groups):
            for proc in children:
                proc.poll()  # reap
            time.sleep(0.1)
        for pgid in groups_alive(groups):
            say(f"process group {pgid} ignored SIGTERM for {STOP_GRACE_S:.0f} s; killing it")
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for proc in children:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        # Anything that left its group (a daemonising child, say) is still marked by our id.
        terminate(processes_marked(STACK_ID, self.stack_id), grace=3)
        for thread in self.threads:
            thread.join(timeout=2)
        try:
            embedded.stop_redis(self.root)
        except Exception as exc:  # keep going: Postgres must still be stopped
            say(f"could not stop Redis: {exc}")
        try:
            embedded.stop_postgres(self.root)
        except Exception as exc:
            say(f"could not stop PostgreSQL: {exc}")
        _state_path(self.root).unlink(missing_ok=True)


def run() -> int:
    root = embedded.var_dir()
    (root / "run").mkdir(parents=True, exist_ok=True)
    lock_file = open(root / "run" / "stack.lock", "a")  # held (locked) for the whole run
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        state = _read_state(root) or {}
        where = f" at {state['url']}" if state.get("url") else ""
        say(
            f"Vitrine is already running{where} (runner pid {state.get('runner', '?')}, "
            f"var dir {root}). Stop it with `make stop` first."
        )
        return 1

    stale = _read_state(root)
    if stale:
        say("found the state of a stack that did not stop cleanly; cleaning up first")
        _cleanup(root, stale)

    host = os.environ.get("VITRINE_HOST", "127.0.0.1")
    port = int(os.environ.get("VITRINE_PORT", "8000"))
    if not port_free(host, port):
        say(f"port {port} on {host} is in use; stop whatever holds it or set VITRINE_PORT")
        return 1

    stack = Stack(root, host, port)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stack.on_signal)
    code = 0
    try:
        stack.start()
    except _Stop as exc:
        say(f"{exc}: stopping")
    except _Died as exc:
        say(f"ERROR: {exc}; stopping everything")
        code = 1
    except Exception as exc:
        say(f"ERROR: {exc.__class__.__name__}: {exc}; stopping everything")
        code = 1
    finally:
        stack.shutdown()
        say("stopped" + (" (with errors, see above)" if code else ""))
    return code


# --- stop ---------------------------------------------------------------------------------


def _cleanup(root: Path, state: dict) -> list[str]:
    """Remove what a dead runner left: its children (found by stack id), Redis, Postgres."""
    done = []
    leftovers = processes_marked(STACK_ID, state["stack_id"]) if state.get("stack_id") else []
    for name, child in (state.get("children") or {}).items():
        proc = same_process(child.get("pid"), child.get("create_time"))
        if proc and proc not in leftovers:
            leftovers.append(proc)
            say(f"left-over {name} (pid {proc.pid})")
    if leftovers:
        killed = terminate(leftovers, grace=STOP_GRACE_S)
        done.append(f"ended {len(leftovers)} left-over process(es)")
        if killed:
            done.append(f"killed {', '.join(killed)}")
    done += [f"stopped {name}" for name in embedded.stop_servers(root)]
    _state_path(root).unlink(missing_ok=True)
    for line in done:
        say(line)
    return done


def stop() -> int:
    """Idempotent. Exit 0 when nothing of this var dir runs any more; 1 when no stack runs but
    its embedded servers are held by another live process (a test run, a shell)."""
    root = env.var_dir()  # not created: `stop` on a fresh checkout must not make one
    if not root.is_dir():
        say(f"nothing to stop: {root} does not exist")
        return 0
    state = _read_state(root)
    if state:
        runner = same_process(state.get("runner"), state.get("runner_create_time"))
        if runner:
            say(f"stopping the Vitrine stack at {state.get('url')} (runner pid {runner.pid})")
            runner.terminate()
            try:
                runner.wait(STOP_GRACE_S + 30)
                say("stopped")
            except psutil.TimeoutExpired:
                say("the runner did not stop within 40 s; killing it and cleaning up")
                runner.kill()
                runner.wait(5)
            state = _read_state(root)  # gone when the runner cleaned up after itself
        else:
            say(f"the runner (pid {state.get('runner')}) is gone; cleaning up after it")
        if state:
            _cleanup(root, state)
        return 0

    # No stack: stop servers only if nothing alive uses them (a test run, a shell).
    holders = embedded.postgres_holders(root)
    if holders and (embedded.postgres_running(root) if (root / "pg").is_dir() else False):
        users = ", ".join(f"{p.pid} ({' '.join(p.cmdline())[:60]})" for p in holders)
        say(f"no stack is running in {root}; its servers are in use by {users}: left alone")
        return 1
    done = embedded.stop_servers(root)
    if done:
        say(f"no stack was running in {root}; stopped left-over {' and '.join(done)}")
    else:
        say(f"nothing to stop: no Vitrine stack is running in {root}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["run"]:
        return run()
    if args == ["stop"]:
        return stop()
    print(__doc__)
    print("usage: python -m config.stack run|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
