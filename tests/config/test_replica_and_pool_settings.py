"""DATABASE_REPLICA_URLS and VITRINE_DB_POOL_MAX_SIZE as a web process reads them: each URL an
alias with the primary's options, pooled when the pool is on, and answering for real.

A subprocess each (the settings read the environment once), on the test server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]

REPORT = """
import json
from config.bootstrap import bootstrap
bootstrap()
import django
django.setup()
from django.conf import settings
from django.db import connections
from search.replicas import replicas_report
out = {"replicas": settings.SEARCH_READ_REPLICAS, "aliases": {}}
for alias in ["default", *settings.SEARCH_READ_REPLICAS]:
    conn = connections[alias]
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        out["aliases"][alias] = {
            "database": cursor.fetchone()[0],
            "pooled": conn.pool is not None,
            "options": {k: v for k, v in conn.settings_dict["OPTIONS"].items() if k != "pool"},
            "conn_max_age": conn.settings_dict["CONN_MAX_AGE"],
        }
    conn.close()
out["report"] = replicas_report()
print(json.dumps(out))
"""


def _run(**env: str) -> dict:
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}"
    full_env = {**os.environ, "DATABASE_URL": url, **env}
    done = subprocess.run(
        [sys.executable, "-c", REPORT], cwd=BASE_DIR, env=full_env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_each_replica_url_is_an_alias_with_the_primarys_options(db):
    db_name = connection.settings_dict["NAME"]
    host = connection.settings_dict["HOST"]
    # The primary named as its own replica: not in recovery, so no lag; it serves.
    out = _run(DATABASE_REPLICA_URLS=f" postgresql://postgres@/{db_name}?host={host} ,")
    assert out["replicas"] == ["replica_0"]
    replica = out["aliases"]["replica_0"]
    assert replica["database"] == db_name and not replica["pooled"]
    assert replica["options"]["connect_timeout"] == 2  # a vanished host costs 2 s, not a hang
    assert out["report"]["replica_0"]["ok"] and out["report"]["replica_0"]["lag_s"] == 0
    assert out["report"]["replica_0"]["serving"] is True


def test_the_pool_is_off_unless_asked_and_pools_every_alias_when_on(db):
    assert not _run()["aliases"]["default"]["pooled"]
    pytest.importorskip("psycopg_pool", reason="psycopg[pool] is not installed here")
    db_name = connection.settings_dict["NAME"]
    host = connection.settings_dict["HOST"]
    out = _run(
        VITRINE_DB_POOL_MAX_SIZE="2",
        DATABASE_REPLICA_URLS=f"postgresql://postgres@/{db_name}?host={host}",
    )
    for alias in ("default", "replica_0"):
        assert out["aliases"][alias]["pooled"] and out["aliases"][alias]["conn_max_age"] == 0
    assert out["report"]["replica_0"]["ok"]
