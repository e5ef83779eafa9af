"""`make run` end to end: `python -m config.stack run` brings up the whole shop (embedded
Postgres and Redis, a Celery worker, the web server, a small indexed demo catalog), and leaves
nothing behind, whether it is stopped with SIGTERM or killed and cleaned up by `stop`.

These tests talk HTTP to a subprocess with its own var dir; they never use pytest-django's
database. `VITRINE_SMOKE_PORT` pins the ports they use (this one and the next); by default the
OS picks free ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.smoke

BASE_DIR = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 240


def _port(offset: int) -> int:
    pinned = os.environ.get("VITRINE_SMOKE_PORT")
    if pinned:
        return int(pinned) + offset
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def var_dir() -> Iterator[Path]:
    """A short path of its own (unix socket paths are limited to ~100 bytes). Teardown is the
    safety net: whatever a failed test left running is stopped before the dir goes."""
    path = Path(tempfile.mkdtemp(prefix="vt-stack-smoke-"))
    yield path
    subprocess.run(
        [sys.executable, "-m", "config.stack", "stop"],
        cwd=BASE_DIR,
        env=_env(path, port=0, demo=False),
        capture_output=True,
        timeout=60,
    )
    for proc in _leftover_processes(path):
        proc.kill()
    shutil.rmtree(path, ignore_errors=True)


def _env(var_dir: Path, *, port: int, demo: bool) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "VITRINE_TASKS_EAGER", "VITRINE_STACK_ID"}
    }
    env.update(
        VITRINE_VAR_DIR=str(var_dir),
        VITRINE_HOST="127.0.0.1",
        VITRINE_PORT=str(port),
        VITRINE_DEMO="1" if demo else "0",
        VITRINE_DEMO_LIMIT="40",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _start(var_dir: Path, *, port: int, demo: bool) -> subprocess.Popen:
    out = open(var_dir / "runner.out", "wb")  # the child keeps writing to it
    return subprocess.Popen(
        [sys.executable, "-m", "config.stack", "run"],
        cwd=BASE_DIR,
        env=_env(var_dir, port=port, demo=demo),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _output(var_dir: Path, tail: int = 6000) -> str:
    try:
        return (var_dir / "runner.out").read_text(errors="replace")[-tail:]
    except OSError:
        return ""


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_until(runner: subprocess.Popen, var_dir: Path, ready, what: str) -> float:
    """Poll `ready()` until true; fail early (with the runner's output) when the runner exits
    or reports an error. Returns the seconds it took."""
    start = time.monotonic()
    while True:
        try:
            if ready():
                return time.monotonic() - start
        except (OSError, ValueError):
            pass
        output = _output(var_dir, tail=100_000)
        if runner.poll() is not None:
            pytest.fail(f"runner exited ({runner.returncode}) before {what}:\n{output[-6000:]}")
        if "[stack] ERROR" in output:
            pytest.fail(f"runner reported an error before {what}:\n{output[-6000:]}")
        if time.monotonic() - start > READY_TIMEOUT_S:
            pytest.fail(f"no {what} after {READY_TIMEOUT_S} s:\n{output[-6000:]}")
        time.sleep(0.5)


def _server_pids(var_dir: Path) -> dict[str, int]:
    """Postmaster and Redis pids: their children's command lines do not name the var dir."""
    pids = {}
    try:
        pids["postgres"] = int((var_dir / "pg" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        pids["redis"] = int((var_dir / "redis" / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        pass
    return pids


def _leftover_processes(var_dir: Path, pids: dict[str, int] | None = None) -> list[psutil.Process]:
    """Every live process of this stack: command line names the var dir (postgres, redis,
    runserver), or the environment points at it (celery and its pool), or a recorded pid."""
    wanted = set((pids or {}).values())
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if (
                proc.pid in wanted
                or str(var_dir) in cmdline
                or proc.environ().get("VITRINE_VAR_DIR") == str(var_dir)
            ):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _describe(procs: list[psutil.Process]) -> str:
    lines = []
    for proc in procs:
        try:
            lines.append(f"{proc.pid}: {' '.join(proc.cmdline())}")
        except psutil.Error:
            pass
    return "\n".join(lines)


def _stack_pids(var_dir: Path) -> dict[str, int]:
    state = json.loads((var_dir / "run" / "stack.json").read_text())
    return {name: state[name] for name in ("runner", "worker", "web")} | _server_pids(var_dir)


def test_run_serves_a_searchable_demo_and_sigterm_leaves_nothing(var_dir: Path) -> None:
    port = _port(0)
    base = f"http://127.0.0.1:{port}"
    runner = _start(var_dir, port=port, demo=True)
    try:
        took = _wait_until(
            runner, var_dir, lambda: _get(f"{base}/healthz")[0] == 200, "a healthy /healthz"
        )
        # /healthz turns 200 once the worker answers (an empty shop is ready too); the banner
        # comes once the whole demo is loaded and indexed, which makes the search assertions
        # below deterministic.
        took += _wait_until(runner, var_dir, lambda: "Vitrine is up" in _output(var_dir), "banner")
        print(f"run -> healthy and demo indexed in {took:.1f} s")
        pids = _stack_pids(var_dir)
        # Ready only once the worker's pool process holds its model (Celery's "ready." comes
        # before that, and a model loading then takes a core from the first searches).
        output = _output(var_dir)
        assert output.index("pool process started") < output.index("Vitrine is up"), output

        status, body = _get(f"{base}/api/v1/search?q=towel")
        assert status == 200, f"{body[:500]!r}\n{_output(var_dir)}"
        results = json.loads(body)["results"]
        assert results, "the demo catalog should answer 'towel'"
        for hit in results:
            assert {"name", "price", "image"} <= hit.keys(), hit
        assert any(hit["image"] for hit in results), "demo products have photos"

        status, body = _get(f"{base}/search?q=towel")
        assert status == 200, f"{body[:500]!r}\n{_output(var_dir)}"
        assert re.search(rb'class="result(\s[^"]*)?"', body), body[:2000]

        second = subprocess.run(
            [sys.executable, "-m", "config.stack", "run"],
            cwd=BASE_DIR,
            env=_env(var_dir, port=_port(1), demo=False),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "already running" in second.stdout
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            code = runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
            pytest.fail(f"runner ignored SIGTERM for 60 s:\n{_output(var_dir)}")

    assert code == 0, _output(var_dir)
    leftovers = _leftover_processes(var_dir, pids)
    assert not leftovers, f"left running after SIGTERM:\n{_describe(leftovers)}"
    assert not (var_dir / "run" / "stack.json").exists()


def test_stop_cleans_up_after_a_killed_runner(var_dir: Path) -> None:
    port = _port(1)
    runner = _start(var_dir, port=port, demo=False)
    try:
        _wait_until(
            runner,
            var_dir,
            lambda: (
                _get(f"http://127.0.0.1:{port}/healthz")[0] in (200, 503)
                and "web" in json.loads((var_dir / "run" / "stack.json").read_text())
            ),
            "a web server",
        )
        pids = _stack_pids(var_dir)
    finally:
        runner.kill()
        runner.wait(timeout=30)

    orphans = _leftover_processes(var_dir, pids)
    assert {"postgres", "redis", "worker", "web"} <= {
        name for name, pid in pids.items() if any(p.pid == pid for p in orphans)
    }, f"a SIGKILLed runner should leave its servers behind:\n{_describe(orphans)}"

    env = _env(var_dir, port=port, demo=False)
    stop = [sys.executable, "-m", "config.stack", "stop"]
    first = subprocess.run(stop, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=90)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "cleaning up" in first.stdout
    leftovers = _leftover_processes(var_dir, pids)
    assert not leftovers, f"left running after stop:\n{_describe(leftovers)}"

    again = subprocess.run(stop, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to stop" in again.stdout


def test_a_dying_worker_takes_the_stack_down(var_dir: Path) -> None:
    port = _port(2)
    runner = _start(var_dir, port=port, demo=False)
    try:
        _wait_until(runner, var_dir, lambda: "Vitrine is up" in _output(var_dir), "the banner")
        pids = _stack_pids(var_dir)
        os.kill(pids["worker"], signal.SIGKILL)
        code = runner.wait(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=30)

    assert code == 1, _output(var_dir)
    assert "the worker exited unexpectedly" in _output(var_dir)
    leftovers = _leftover_processes(var_dir, pids)
    assert not leftovers, f"left running after the worker died:\n{_describe(leftovers)}"
