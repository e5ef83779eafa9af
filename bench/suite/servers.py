"""The processes a bench run starts and stops: embedded PostgreSQL + Redis (through
config.embedded, explicitly), Celery workers and gunicorn, each in its own process group."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import psutil

from config import embedded
from suite.common import PY, ROOT


class Children:
    """The processes this run starts: each in its own process group, output to a log file;
    stopped (SIGTERM, then SIGKILL after a grace) in reverse order. Only these are touched."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_file = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept by Popen)
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        self.procs[name] = proc
        return proc

    def check(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with code {proc.returncode}:\n{tail}")

    def stop(self, name: str, grace: float = 15.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # the group leader: Celery and gunicorn stop their children
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left in its group
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)


def child_env(root: Path, database_url: str, redis_url: str, torch_threads: str) -> dict:
    """The environment of every process the bench starts (and of the bench itself)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VITRINE_VAR_DIR": str(root),
        "VITRINE_MEDIA_ROOT": str(root / "media"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Production-shaped: DEBUG off (no per-query bookkeeping in Django).
        "VITRINE_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        # Plain HTTP on loopback, as behind a TLS-terminating proxy.
        "VITRINE_SSL_REDIRECT": "0",
        # One client address (loopback) sends everything: the anonymous rate limit
        # (120/min by default) would turn the load test into 429s.
        "VITRINE_ANON_THROTTLE": "100000000/min",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # Torch threads per process (see --torch-threads).
        "OMP_NUM_THREADS": torch_threads,
        "MKL_NUM_THREADS": torch_threads,
        "PYTHONUNBUFFERED": "1",
    }


def embed_worker_args() -> list[str]:
    """The document-embedding worker as production runs it: one task at a time."""
    args = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "embed,default"]
    return args + ["-c", "1", "--loglevel", "INFO", "-n", "bench-embed@%h"]


def query_worker_args() -> list[str]:
    """The worker on the `query` queue (remote query encoding), prefetching nothing."""
    args = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "query", "-c", "1"]
    return args + ["--prefetch-multiplier", "1", "-n", "bench-query@%h", "--loglevel", "INFO"]


def gunicorn_args(port: int, workers: int) -> list[str]:
    """The web as the bench serves it: gunicorn's sync workers on loopback."""
    args = [PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    return args + ["--workers", str(workers), "--timeout", "60", "--worker-tmp-dir", "/dev/shm"]


def redis_db(url: str, db: int) -> str:
    """The same Redis server, another database: `unix:///…/redis.sock?db=1`,
    `redis://host:6379/1` (a second web with its own cache)."""
    if url.startswith("unix://"):
        return url.split("?", 1)[0] + f"?db={db}"
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db}"


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def rss_mb(pid: int) -> dict[str, float]:
    """RSS and PSS (shared pages split between sharers) of a process and its descendants."""
    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    rss = pss = 0.0
    per = []
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        per.append(round(info.rss / 2**20, 1))
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1), "per_process": per}


def wipe_var_dir(root: Path) -> None:
    """Remove a previous run's var dir, stopping the servers a killed bench may have left
    running in it; only a bench's own var dirs are wiped."""
    if not root.exists():
        return
    if not (root.name.startswith("vt-bench") or root == (ROOT / "var" / "bench")):
        raise SystemExit(f"refusing to wipe {root}: use /tmp/vt-bench* or var/bench")
    stop_embedded(root)
    shutil.rmtree(root)


def start_embedded(root: Path, *, shared_buffers: str) -> tuple[str, str]:
    """Embedded PostgreSQL (with production's buffer cache) and Redis in `root`; their URLs."""
    database_url = embedded.ensure_postgres(root)
    set_shared_buffers(root, database_url, shared_buffers)
    redis_url = embedded.ensure_redis(root, stop_at_exit=False)
    return database_url, redis_url


def set_shared_buffers(root: Path, database_url: str, shared_buffers: str) -> None:
    """PostgreSQL's buffer cache as production has it (docker-compose.yml gives it
    PG_SHARED_BUFFERS, 1 GB): pgserver starts with 128 MB, in which the 100k HNSW graph
    (116 MB) and the rows it points to do not fit, so every search would copy thousands
    of pages from the OS page cache. Needs a restart."""
    import pgserver
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    # pg_ctl restart keeps the server's command line (its socket directory) as it was.
    user = "pgserver" if os.geteuid() == 0 else None
    pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=root / "pg", user=user)


def stop_embedded(root: Path) -> None:
    embedded.stop_redis(root)
    if (root / "pg").is_dir() and embedded.postgres_running(root):
        embedded.stop_postgres(root)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = "no GPU" if not shutil.which("nvidia-smi") else "NVIDIA GPU present"
    return f"{os.cpu_count()} vCPU {cpu}, {mem:.0f} GiB RAM, {gpu}"
