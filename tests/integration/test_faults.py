"""Faults done for real, each ending with every product indexed exactly once.

- a worker killed with SIGKILL (the whole process group) in the middle of a 500-product batch;
- Redis (broker and cache) stopped while products are saved, then started again;
- PostgreSQL restarted under a running worker;
- a task that keeps failing stops retrying and shows up as failed.

Each test runs its own Redis server on a unix socket in a temp dir, and its own worker(s) on
it, so the session's shared Redis (and the session `celery_worker`, which consumes it) never
see these messages or these outages. The PostgreSQL restart uses a PostgreSQL server of its
own too (a pgserver data dir in a temp dir, the test database's schema loaded with pg_dump):
restarting the session's server would cut every other test's connection.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.test import override_settings
from kombu import pools as kombu_pools

from catalog import services as catalog
from catalog.models import Product
from catalog.selectors import products_with_photos
from config import embedded
from config.celery import app
from config.env import redis_url_for_kombu
from search.documents import build_document
from search.indexing.queue import enqueue_embedding
from search.indexing.sweeper import TASK_FAILED_PREFIX, sweep_stale_products
from search.models import ProductEmbedding, SearchIndex

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float = 60, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- A Redis server of the test's own --------------------------------------------------------


class PrivateRedis:
    """redis-server in the foreground, on a unix socket in a short temp dir (socket paths are
    limited to ~100 bytes), without persistence: a restart comes back empty, as a crashed
    cache-only Redis does."""

    def __init__(self, root: Path):
        self.root = root
        self.sock = root / "redis.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    @property
    def broker_url(self) -> str:
        return redis_url_for_kombu(self.url)

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.sock), socket_timeout=2)

    def start(self) -> None:
        self.sock.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [embedded.redis_server_binary(), "--port", "0", "--unixsocket", str(self.sock),
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(unix_socket_path=str(self.sock))
        assert wait_until(lambda: self._pings(client), timeout=10), "private Redis did not start"

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.unlink(missing_ok=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    root = Path(tempfile.mkdtemp(prefix="vt-fault-redis-"))
    server = PrivateRedis(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _use_broker(url: str) -> None:
    """Point this process's Celery app at another broker (new connections, new producers)."""
    kombu_pools.reset()  # closes and forgets every pooled connection and producer
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@contextmanager
def broker_and_cache(server: PrivateRedis) -> Iterator[None]:
    """This process publishes to `server` and caches in it, as a web process of a shop whose
    only Redis is `server` does."""
    previous = app.conf.broker_url
    cache = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    _use_broker(server.broker_url)
    try:
        with override_settings(
            CACHES=cache, CELERY_BROKER_URL=server.broker_url, REDIS_URL=server.url
        ):
            yield
    finally:
        _use_broker(previous)


# --- Workers of the test's own ---------------------------------------------------------------


class Workers:
    """Starts `celery worker` processes on a private broker; stops whatever is left."""

    def __init__(self, tmp: Path, media_root: Path):
        self.tmp = tmp
        self.media_root = media_root
        self.procs: list[subprocess.Popen] = []

    def start(
        self, name: str, redis_server: PrivateRedis, *, database_url: str | None = None, **env
    ) -> subprocess.Popen:
        if database_url is None:
            db = connection.settings_dict
            database_url = f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}"
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url,
            "VITRINE_MEDIA_ROOT": str(self.media_root),
            "HF_HUB_OFFLINE": "1",
            **{k: str(v) for k, v in env.items()},
        }
        node = f"{name}-{os.getpid()}@localhost"
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - the worker writes it
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "embed,default",
             "-c", "1", "-n", node, "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        log.close()
        proc.node = node  # type: ignore[attr-defined]
        proc.log = self.tmp / f"{name}.log"  # type: ignore[attr-defined]
        self.procs.append(proc)
        self.wait_ready(proc, redis_server)
        return proc

    def wait_ready(self, proc: subprocess.Popen, redis_server: PrivateRedis, timeout=90) -> None:
        with broker_and_cache(redis_server):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"worker exited with {proc.returncode}:\n{self.tail(proc)}")
                if app.control.ping(destination=[proc.node], timeout=0.5):
                    return
        raise RuntimeError(f"worker did not answer a ping in {timeout} s:\n{self.tail(proc)}")

    @staticmethod
    def log(proc: subprocess.Popen) -> str:
        return proc.log.read_text(errors="replace")

    def tail(self, proc: subprocess.Popen) -> str:
        return self.log(proc)[-3000:]

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """SIGKILL to the worker's whole process group: the main process and its pool child
        die at once, with no chance to ack, reject or requeue anything."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        """A warm shutdown (SIGTERM): the running task finishes and is acked."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        for proc in self.procs:
            self.stop(proc)
        if os.environ.get("CI"):
            for proc in self.procs:
                sys.stderr.write(f"--- {proc.node} ---\n{self.tail(proc)}\n")


@pytest.fixture
def workers(tmp_path, media_root, django_db_setup) -> Iterator[Workers]:
    pool = Workers(tmp_path, media_root)
    try:
        yield pool
    finally:
        pool.stop_all()


# --- What "indexed exactly once" means -------------------------------------------------------


def assert_indexed_exactly_once(product_ids: list[int], using: str = "default") -> None:
    """One index; one row per product (the unique constraint forbids more, the count
    proves none is missing); every row has a vector made from the product's current
    document (so the sweeper finds nothing stale)."""
    index = SearchIndex.objects.using(using).get()
    rows = ProductEmbedding.objects.using(using).filter(index=index)
    assert rows.count() == len(product_ids)
    assert set(rows.values_list("product_id", flat=True)) == set(product_ids)
    assert not rows.filter(embedding__isnull=True).exists()
    assert not rows.exclude(index_error="").exists()
    stored = dict(rows.values_list("product_id", "document_hash"))
    current = {
        p.id: build_document(p).document_hash
        for p in products_with_photos(ids=product_ids).using(using)
    }
    assert stored == current


def embedded_count(using: str = "default") -> int:
    return ProductEmbedding.objects.using(using).exclude(embedding=None).count()


def make_products(n: int, prefix: str, using: str = "default") -> list[int]:
    """Committed products without signals (bulk_create): nothing is enqueued for them yet."""
    words = ["towel", "mug", "lamp", "saw", "sneaker", "kettle", "blanket", "drill"]
    rows = [
        Product(
            sku=f"{prefix}-{i}",
            name=f"{words[i % len(words)].title()} number {i}",
            description=f"A sturdy {words[i % len(words)]} for everyday use, model {i}.",
            brand=f"Brand {i % 7}",
        )
        for i in range(n)
    ]
    return [p.id for p in Product.objects.using(using).bulk_create(rows)]


# --- The faults --------------------------------------------------------------------------------


VISIBILITY_S = 3


def test_a_worker_killed_mid_batch_loses_nothing(private_redis, workers):
    ids = make_products(500, "KILL")
    first = workers.start("kill-1", private_redis)
    with broker_and_cache(private_redis):
        enqueue_embedding(ids)  # 8 tasks of 64
    # One batch committed and the next one taken (unacked): it is encoding. Kill it there.
    redis_client = private_redis.client()
    assert wait_until(
        lambda: embedded_count() >= 64 and redis_client.hlen("unacked") >= 1, timeout=90
    ), workers.tail(first)
    workers.kill(first)
    killed_at = time.monotonic()
    assert 64 <= embedded_count() < 500
    dead = redis_client.hlen("unacked")  # the batch it was encoding
    assert dead >= 1

    # A new worker (production settings: an hour's visibility timeout) does the queued rest.
    second = workers.start("kill-2", private_redis)
    assert wait_until(
        lambda: redis_client.llen("embed") == 0 and redis_client.hlen("unacked") == dead,
        timeout=90,
    ), workers.tail(second)
    lost = 500 - embedded_count()
    # What died with the worker: one batch (none if it was killed between its commit and its
    # ack, a window of microseconds).
    assert 0 <= lost <= 64 * dead, lost
    print(f"\nkilled mid-batch: {lost} products lost with the worker, {dead} message(s) unacked")
    # The sweeper finds exactly those and the worker embeds them.
    with broker_and_cache(private_redis):
        assert sweep_stale_products(batch_size=64) == lost
    assert wait_until(lambda: embedded_count() == 500, timeout=60), workers.tail(second)
    workers.stop(second)

    # acks_late: the dead worker's message is still unacked in Redis. Once the visibility
    # timeout has passed, the next worker to start puts it back in the queue; run again, it
    # changes nothing (the hashes are current) and nothing is duplicated.
    assert redis_client.hlen("unacked") == dead
    time.sleep(max(0.0, killed_at + VISIBILITY_S + 0.5 - time.monotonic()))
    third = workers.start("kill-3", private_redis, VITRINE_VISIBILITY_TIMEOUT_S=VISIBILITY_S)
    assert wait_until(lambda: redis_client.hlen("unacked") == 0, timeout=30)
    redelivered = re.compile(r"'embedded': 0, 'unchanged': [1-9]")  # re-run as a no-op
    assert wait_until(lambda: redelivered.search(workers.log(third)), timeout=30)
    assert_indexed_exactly_once(ids)


def test_products_saved_while_redis_is_down_are_saved_and_indexed_once_it_is_back(
    private_redis, workers, client
):
    worker = workers.start("redis-down", private_redis)
    private_redis.stop()

    saved, took = [], []
    with broker_and_cache(private_redis):
        for i in range(30):
            t = time.perf_counter()
            product, _ = catalog.upsert_product(
                sku=f"DOWN-{i}", name=f"Linen tea towel {i}", description="Saved in an outage."
            )
            took.append(time.perf_counter() - t)
            saved.append(product.id)
    assert Product.objects.filter(id__in=saved).count() == 30  # every write succeeded
    slowest = max(took)
    print(f"\nproduct save with Redis down: median {sorted(took)[15] * 1000:.0f} ms, "
          f"slowest {slowest * 1000:.0f} ms")  # fmt: skip
    assert slowest < 3.0  # CELERY_BROKER_CONNECTION_TIMEOUT and one quick publish retry

    with broker_and_cache(private_redis):  # the cache is down too: misses, not errors
        health = client.get("/healthz")
        assert health.status_code == 503 and not health.json()["redis"]["ok"]
        for path in ("/api/v1/search", "/search"):
            t = time.perf_counter()
            assert client.get(path, {"q": "tea towel"}).status_code == 200, path
            assert time.perf_counter() - t < 5

    private_redis.start()  # empty: whatever it held is gone, as after a crash
    with broker_and_cache(private_redis):
        # The worker reconnects by itself; a save now goes through the normal path.
        workers.wait_ready(worker, private_redis, timeout=60)
        after, _ = catalog.upsert_product(sku="DOWN-after", name="Striped beach towel")
        assert wait_until(
            lambda: ProductEmbedding.objects.filter(product=after).exists(), timeout=60
        ), workers.tail(worker)
        # The sweeper finds exactly the products whose messages never reached the broker.
        assert sweep_stale_products(batch_size=16) == 30
        assert sweep_stale_products(batch_size=16) == 0  # enqueued: not again (cooldown)
    assert wait_until(lambda: embedded_count() == 31, timeout=90), workers.tail(worker)
    assert_indexed_exactly_once([*saved, after.id])


def reconnect_faultdb() -> None:
    """(Re)open this process's connection to the private server. Opened by hand: the test
    case only lets an alias it was not told about run queries on a connection that is open."""
    conn = connections["faultdb"]
    conn.close()
    conn.connect()


def test_a_hung_redis_slows_saves_down_boundedly_and_loses_nothing(private_redis, workers, client):
    """SIGSTOP: connections are accepted and never answered (a Redis stuck in a fork, a
    swapping host, a half-open connection). Socket timeouts bound every wait."""
    worker = workers.start("redis-hung", private_redis)
    saved, took = [], []
    with broker_and_cache(private_redis):
        os.kill(private_redis.proc.pid, signal.SIGSTOP)
        try:
            for i in range(3):
                t = time.perf_counter()
                product, _ = catalog.upsert_product(sku=f"HUNG-{i}", name=f"Wool blanket {i}")
                took.append(time.perf_counter() - t)
                saved.append(product.id)
            t = time.perf_counter()
            assert client.get("/api/v1/search", {"q": "wool blanket"}).status_code == 200
            search_took = time.perf_counter() - t
        finally:
            os.kill(private_redis.proc.pid, signal.SIGCONT)
        print(f"\nsaves with Redis hung: {', '.join(f'{x:.1f}' for x in took)} s; "
              f"search {search_took:.1f} s")  # fmt: skip
        # Broker socket timeout 2 s, one publish retry; the cache gives up after 1 s and is
        # skipped for a few seconds after that.
        assert max(took) < 10 and search_took < 5
        workers.wait_ready(worker, private_redis, timeout=60)
        sweep_stale_products(batch_size=16)  # whatever the timed-out publishes did not deliver
    assert wait_until(lambda: embedded_count() == 3, timeout=90), workers.tail(worker)
    assert_indexed_exactly_once(saved)


@pytest.fixture
def private_postgres() -> Iterator[dict]:
    """A PostgreSQL server of this test's own (pgserver, pgvector included) with the test
    database's schema, reachable through the Django alias "faultdb"."""
    import pgserver
    from pgserver._commands import POSTGRES_BIN_PATH

    root = Path(tempfile.mkdtemp(prefix="vt-fault-pg-"))
    pgdata = root / "pg"
    pgdata.mkdir()
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        db = connection.settings_dict
        dump = subprocess.run(
            [POSTGRES_BIN_PATH / "pg_dump", "--schema-only", "--no-owner", "-h", db["HOST"],
             "-U", db["USER"], db["NAME"]],
            check=True, capture_output=True, timeout=60,
        ).stdout  # fmt: skip
        subprocess.run(
            [POSTGRES_BIN_PATH / "psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", socket_dir,
             "-U", "postgres", "-d", "postgres"],
            input=dump, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        connections.settings["faultdb"] = {
            **connections.settings["default"],
            "NAME": "postgres",
            "HOST": socket_dir,
            "CONN_MAX_AGE": 0,
        }
        reconnect_faultdb()
        yield {
            "url": f"postgresql://postgres@/postgres?host={socket_dir}",
            "pgdata": pgdata,
            "user": user,
        }
    finally:
        if "faultdb" in connections.settings:
            connections["faultdb"].close()
            del connections["faultdb"]
            del connections.settings["faultdb"]
        try:
            pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=user)
        except Exception:
            pass
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restarted_under_a_running_worker_loses_nothing(
    private_redis, private_postgres, workers
):
    import pgserver

    worker = workers.start("pg-restart", private_redis, database_url=private_postgres["url"])
    ids = make_products(300, "PG", using="faultdb")
    with broker_and_cache(private_redis):
        enqueue_embedding(ids)  # 5 tasks of 64

    def embedded() -> int:
        try:
            return embedded_count(using="faultdb")
        except Exception:  # this process's connection was cut too
            try:
                reconnect_faultdb()
            except Exception:  # still restarting
                pass
            return -1

    assert wait_until(lambda: embedded() >= 64, timeout=90), workers.tail(worker)
    at_restart = embedded()
    t = time.perf_counter()
    pgserver.pg_ctl(
        ["-w", "-m", "fast", "-l", str(private_postgres["pgdata"] / "log"), "restart"],
        pgdata=private_postgres["pgdata"],
        user=private_postgres["user"],
    )
    print(f"\nPostgreSQL restarted in {time.perf_counter() - t:.1f} s at {at_restart} of 300")
    reconnect_faultdb()
    assert wait_until(lambda: embedded() == 300, timeout=90), workers.tail(worker)
    assert worker.poll() is None  # it survived: reconnected (and retried what failed)
    print(f"tasks retried: {workers.log(worker).count('retry: Retry in')}")
    assert_indexed_exactly_once(ids, using="faultdb")


def test_a_task_that_keeps_failing_stops_retrying_and_shows_up_as_failed(
    private_redis, workers, client
):
    # The active index's model cannot load: every embedding task fails, every time.
    broken = SearchIndex.objects.create(
        embedder="/nonexistent/model", dims=384, modalities=["text"], active=True, state="ready"
    )
    worker = workers.start(
        "failing",
        private_redis,
        VITRINE_TASK_MAX_RETRIES=2,
        VITRINE_TASK_RETRY_BACKOFF_S=1,
        VITRINE_WORKER_PRELOAD_MODELS=0,
    )
    ids = make_products(5, "FAIL")
    t = time.perf_counter()
    with broker_and_cache(private_redis):
        enqueue_embedding(ids)
    failed = ProductEmbedding.objects.filter(index_error__startswith=TASK_FAILED_PREFIX)
    assert wait_until(lambda: failed.count() == 5, timeout=60), workers.tail(worker)
    print(f"\ngave up after {time.perf_counter() - t:.1f} s")
    log = workers.log(worker)
    assert log.count("retry: Retry in") == 2, log  # two retries, then it stopped
    row = failed.first()
    assert row.index_id == broken.pk and row.embedding is None and row.document_hash == ""

    body = client.get("/healthz").json()
    assert body["tasks"] == {"failed": 5}
    # Keyword search still answers for them, and says why it is keyword-only.
    response = client.get("/api/v1/search", {"q": "towel number 0"})
    assert response.status_code == 200
    assert response.json()["mode"] == "lexical" and response.json()["notices"]
