"""Private Celery workers for integration tests that need one of their own (a queue nobody
else consumes, their own settings, a process they may kill), on the test database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], object], timeout: float = 90, interval: float = 0.2) -> bool:
    """Poll until `predicate` holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def start_worker(
    *, queue: str, log: Path, env: dict[str, str], include: Sequence[str] = ()
) -> subprocess.Popen:
    """A `celery worker` (one pool process) on `queue`, named `<queue>@localhost`, writing to
    `log`; `env`: settings of this worker over the test run's (database, Redis, media root)."""
    db = connection.settings_dict
    full_env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}",
        "REDIS_URL": settings.REDIS_URL,
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1",
            "-n", f"{queue}@localhost", "--loglevel", "INFO", "--without-gossip",
            "--without-mingle"]  # fmt: skip
    if include:
        args += ["--include", ",".join(include)]
    with open(log, "wb") as out:
        return subprocess.Popen(
            args, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


def stop_worker(proc: subprocess.Popen) -> None:
    """SIGTERM to its process group, SIGKILL after 15 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
