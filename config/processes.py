"""Process plumbing for `make run`'s supervisor (config/stack.py): find, stop and stream the
output of child processes. Nothing here knows about Vitrine's services."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import psutil

_print_lock = threading.Lock()


def echo(*lines: str) -> None:
    """Lines on the terminal, never interleaved with a child's; a closed terminal must not
    break a shutdown."""
    with _print_lock:
        try:
            for line in lines:
                sys.stdout.write(f"{line}\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def same_process(pid: int | None, create_time: float | None) -> psutil.Process | None:
    """The process `pid` if it is still the one we recorded (pids get reused)."""
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        if create_time is not None and abs(proc.create_time() - create_time) > 1.0:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def processes_marked(name: str, value: str) -> list[psutil.Process]:
    """Every live process (but this one) whose environment has `name=value`: a mark that
    children inherit, so grandchildren (Celery's pool) are found too, even after whoever
    started them was killed."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(name) == value:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def terminate(procs: list[psutil.Process], grace: float) -> list[str]:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL what is left; returns what was killed."""
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    killed = []
    for proc in alive:
        try:
            killed.append(f"{proc.pid} ({' '.join(proc.cmdline())[:80]})")
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)
    return killed


def groups_alive(pgids: list[int]) -> list[int]:
    """The process groups of `pgids` that still have a live member."""
    alive = []
    for pgid in pgids:
        try:
            os.killpg(pgid, 0)
            alive.append(pgid)
        except (ProcessLookupError, PermissionError):
            pass
    # A group whose only members are zombies awaiting our wait() counts as gone.
    if alive:
        members: dict[int, list[str]] = {}
        for proc in psutil.process_iter(["status"]):
            try:
                pgid = os.getpgid(proc.pid)
            except OSError:
                continue
            if pgid in alive:
                members.setdefault(pgid, []).append(proc.info["status"])
        alive = [g for g in alive if any(s != psutil.STATUS_ZOMBIE for s in members.get(g, []))]
    return alive


def pump(
    name: str, stream: IO[bytes], log_path: Path, on_line: Callable[[str], None] | None = None
) -> None:
    """Copy a child's output to its log file and to the terminal, each line prefixed `[name] `;
    `on_line` sees each line too."""
    with open(log_path, "ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start ---\n".encode())
        for raw in iter(stream.readline, b""):
            log.write(raw)
            log.flush()
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            echo(f"[{name}] {line}")
            if on_line is not None:
                on_line(line)


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
