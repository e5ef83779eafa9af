"""Searches on a REAL PostgreSQL streaming replica: a standby made with `pg_basebackup -R`
from the test database's server (pgserver ships pg_basebackup and the WAL receiver),
started on its own unix socket and known to Django as "replica_0", as DATABASE_REPLICA_URLS
would make it.

Nothing of the session's server is reconfigured: initdb's defaults already allow local
replication connections (pg_hba "local replication all trust", wal_level replica), and the
standby uses no replication slot, so the primary keeps nothing for it. The standby is
killed with SIGKILL and its data dir removed at the end, whatever happens.

What is proven: searches are served by the standby (its replay paused, a product just
written on the primary is not found; resumed, it is), a standby too far behind is skipped,
an index switch the standby has not replayed yet is answered by the primary, and killing
the standby in the middle of a loop of searches costs the shoppers nothing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from catalog import services as catalog
from search.indexing.embedding import embed_products
from search.indexing.indexes import activate_index, prepare_index
from search.replicas import forget_replica_states, replica_state

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
]

ALIAS = "replica_0"


class Standby:
    """A hot standby of the test database's server, in a temp dir of its own."""

    def __init__(self, root: Path):
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.root = root
        self.pgdata = root / "data"
        self.socket_dir = root / "sock"
        # pgserver runs PostgreSQL as "pgserver" when the tests run as root (it refuses root).
        self.user = "pgserver" if os.geteuid() == 0 else None
        self.proc: subprocess.Popen | None = None

    def _own(self, path: Path, mode: int) -> None:
        path.mkdir(mode=mode)
        path.chmod(mode)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def create(self, primary_socket_dir: str) -> None:
        self.root.chmod(0o755)
        self._own(self.pgdata, 0o700)
        self._own(self.socket_dir, 0o755)
        subprocess.run(
            [self.bin / "pg_basebackup", "-h", primary_socket_dir, "-U", "postgres",
             "-D", str(self.pgdata), "-R", "-X", "stream", "-c", "fast"],
            check=True, capture_output=True, timeout=60, user=self.user,
        )  # fmt: skip
        (self.pgdata / ".handle_pids.json").unlink(missing_ok=True)  # pgserver's, not ours

    def start(self) -> None:
        log = open(self.root / "standby.log", "wb")  # noqa: SIM115 - the server writes it
        self.proc = subprocess.Popen(
            [self.bin / "postgres", "-D", str(self.pgdata), "-k", str(self.socket_dir),
             "-h", "", "-c", "hot_standby=on"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, user=self.user,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [self.bin / "pg_isready", "-q", "-h", str(self.socket_dir)], check=False
            )
            if ready.returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the standby did not start:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the postmaster, as a crashed host: no shutdown, its backends die as
        they notice."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self) -> str:
        try:
            return (self.root / "standby.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def on_replica(statement: str, params: list | None = None):
    with connections[ALIAS].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def wait_replayed(timeout: float = 30) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (lsn,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while not on_replica("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])[0]:
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)


@pytest.fixture
def standby(transactional_db, settings) -> Iterator[Standby]:
    """The standby, streaming, reachable as the Django alias "replica_0" and named as this
    process's search replica (what DATABASE_REPLICA_URLS does in settings)."""
    server = Standby(Path(tempfile.mkdtemp(prefix="vt-replica-")))
    try:
        primary = connection.settings_dict
        server.create(primary["HOST"])
        server.start()
        # A connection made here, not declared in DATABASES: the test case lets a test use
        # (and reopen) a connection it made itself, and has nothing of it to flush.
        connections[ALIAS] = connections["default"].__class__(
            {
                **primary,
                "HOST": str(server.socket_dir),
                "CONN_MAX_AGE": 0,
                "OPTIONS": {**primary["OPTIONS"], "connect_timeout": 2},
            },
            ALIAS,
        )
        settings.SEARCH_READ_REPLICAS = [ALIAS]
        settings.SEARCH_REPLICA_MAX_LAG_S = 30.0
        # That connection exists in this thread only, so a hybrid search's keyword leg runs
        # in line here (search.retrieval.alongside); a declared replica is every thread's.
        settings.SEARCH_PARALLEL_LEGS = False
        forget_replica_states()
        assert on_replica("SELECT pg_is_in_recovery()")[0], "not a standby"
        yield server
    finally:
        try:
            connections[ALIAS].close()
            del connections[ALIAS]
        except Exception:
            pass
        forget_replica_states()
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


TOWELS = [
    ("RT-1", "Plush cotton bath towel", "Home/Bath"),
    ("RT-2", "Quick-dry beach towel", "Home/Bath"),
    ("RT-3", "Stoneware coffee mug", "Home/Kitchen"),
    ("RT-4", "Benchtop band saw", "Tools/Saws"),
]


def add_products(rows) -> list[int]:
    ids = []
    for sku, name, category in rows:
        product, _ = catalog.upsert_product(sku=sku, name=name, category=category, price="12")
        ids.append(product.id)
    embed_products(product_ids=ids)
    return ids


def skus(client, **params) -> list[str]:
    cache.clear()  # each search ranks afresh: the results cache is not what is tested here
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    return [r["sku"] for r in response.json()["results"]]


def test_searches_are_served_by_the_standby_and_see_the_primarys_writes_after_replay(
    standby, client
):
    add_products(TOWELS)
    wait_replayed()
    with CaptureQueriesContext(connections[ALIAS]) as on_standby:
        assert "RT-1" in skus(client, q="bath towel")
    assert any("search_productembedding" in q["sql"] for q in on_standby.captured_queries)
    assert any("search_lexicaldocument" in q["sql"] for q in on_standby.captured_queries)
    with CaptureQueriesContext(connections[ALIAS]) as on_standby:
        similar = client.get("/api/v1/products/RT-1/similar")
    assert similar.status_code == 200 and similar.json()["results"]
    assert any("search_productembedding" in q["sql"] for q in on_standby.captured_queries)

    # The standby stops replaying: a product written on the primary now is not found by
    # searches that the standby serves...
    on_replica("SELECT pg_wal_replay_pause()")
    add_products([("RT-9", "Velvet reading armchair", "Home/Living")])
    assert "RT-9" not in skus(client, q="velvet armchair")
    # ...and is found once the standby has replayed it.
    on_replica("SELECT pg_wal_replay_resume()")
    wait_replayed()
    assert skus(client, q="velvet armchair")[0] == "RT-9"
    assert replica_state(ALIAS).ok


def test_a_standby_further_behind_than_the_lag_allowed_answers_no_searches(
    standby, client, settings
):
    add_products(TOWELS)
    wait_replayed()
    on_replica("SELECT pg_wal_replay_pause()")
    add_products([("RT-9", "Velvet reading armchair", "Home/Living")])
    time.sleep(1.2)  # the last commit the standby replayed is now over a second old
    settings.SEARCH_REPLICA_MAX_LAG_S = 1.0
    forget_replica_states()  # this process looks at the standby again now, not in seconds
    assert skus(client, q="velvet armchair")[0] == "RT-9"  # the primary answered
    state = replica_state(ALIAS)
    assert state.ok and state.lag_s > 1.0
    body = client.get("/healthz").json()
    assert body["replicas"][ALIAS]["serving"] is False and body["replicas"][ALIAS]["lag_s"] > 1
    on_replica("SELECT pg_wal_replay_resume()")


def test_an_index_switch_the_standby_has_not_replayed_is_answered_by_the_primary(
    standby, client, settings, tiny_clip
):
    ids = add_products(TOWELS)
    wait_replayed()
    on_replica("SELECT pg_wal_replay_pause()")
    # A new model's index is built and activated on the primary; the standby has none of it.
    clip = prepare_index(model_id=str(tiny_clip), revision=None)
    embed_products(product_ids=ids)
    activate_index(clip)
    settings.SEARCH_READ_REPLICAS = []
    on_the_primary = skus(client, q="towel", mode="vector")
    assert on_the_primary  # the new index answers there
    settings.SEARCH_READ_REPLICAS = [ALIAS]
    forget_replica_states()
    with CaptureQueriesContext(connections[ALIAS]) as on_standby:
        assert skus(client, q="towel", mode="vector") == on_the_primary
    assert not any("search_productembedding" in q["sql"] for q in on_standby.captured_queries)

    on_replica("SELECT pg_wal_replay_resume()")
    wait_replayed()
    forget_replica_states()
    with CaptureQueriesContext(connections[ALIAS]) as on_standby:
        assert skus(client, q="towel", mode="vector") == on_the_primary
    assert any("search_productembedding" in q["sql"] for q in on_standby.captured_queries)


def test_the_standby_killed_in_the_middle_of_searches_costs_the_shoppers_nothing(standby, client):
    add_products(TOWELS)
    wait_replayed()
    queries = ["bath towel", "coffee mug", "band saw", "beach towel"]
    answers: list[tuple[int, int]] = []
    served_by_standby = 0
    for i in range(40):
        cache.clear()
        params = {"q": queries[i % len(queries)]}
        if i < 15:
            with CaptureQueriesContext(connections[ALIAS]) as on_standby:
                response = client.get("/api/v1/search", params)
            served_by_standby += any(
                "search_lexicaldocument" in q["sql"] for q in on_standby.captured_queries
            )
        else:
            if i == 15:
                standby.kill()
            response = client.get("/api/v1/search", params)
        answers.append((response.status_code, len(response.json().get("results", []))))
    assert all(status == 200 and count > 0 for status, count in answers), answers
    assert served_by_standby == 15  # before the kill, every search was the standby's
    state = replica_state(ALIAS)
    assert not state.ok and state.error
    body = client.get("/healthz").json()
    assert body["replicas"][ALIAS]["ok"] is False
    assert body["database"]["ok"]  # the primary serves; the replica only reported
