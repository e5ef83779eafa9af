"""Shared fixtures. Real services throughout: the suite's bootstrap (tests/bootstrap_plugin.py)
has already started (or attached to) the embedded PostgreSQL and Redis under $VITRINE_VAR_DIR
and exported their URLs; the `celery_worker` fixture starts a real worker process against the
test database."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """Tiny models are built once per test session (a few seconds) into a temp dir."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_cross_encoder(model_dir) -> Path:
    from tests.support.tiny_models import build_tiny_cross_encoder

    return build_tiny_cross_encoder(model_dir / "tiny-cross-encoder")


@pytest.fixture(scope="session")
def tiny_clip(model_dir) -> Path:
    from tests.support.tiny_models import build_tiny_clip

    return build_tiny_clip(model_dir / "tiny-clip")


@pytest.fixture(scope="session")
def tiny_vlm_embedder(model_dir) -> Path:
    from tests.support.tiny_models import build_tiny_qwen3vl_embedder

    return build_tiny_qwen3vl_embedder(model_dir / "tiny-qwen3vl-embed")


@pytest.fixture(scope="session")
def tiny_vlm_reranker(model_dir) -> Path:
    from tests.support.tiny_models import build_tiny_qwen3vl_reranker

    return build_tiny_qwen3vl_reranker(model_dir / "tiny-qwen3vl-rerank")


@pytest.fixture(scope="session", autouse=True)
def _connection_threads_closed_before_the_database_is_dropped(django_db_setup):
    """Hybrid searches and embedding outside a transaction (live servers, transactional
    tests) run keyword legs and vector writes on threads that keep a connection open: closed
    before the test database is dropped (teardown runs in reverse, so before
    django_db_setup's)."""
    yield
    from search.connection_threads import close_connection_threads

    close_connection_threads()


@pytest.fixture
def no_embedding_queue(monkeypatch):
    """Product writes queue no embedding: for a transactional test that embeds in-process,
    whose commits the integration tests' Celery worker (up for the rest of a full run) would
    otherwise also take, racing the test and its flush."""
    from search import receivers

    monkeypatch.setattr(receivers, "schedule_embedding", lambda ids: None)
    monkeypatch.setattr(receivers, "enqueue_embedding", lambda ids: None)


@pytest.fixture
def png_bytes():
    """A real PNG of the given colour and size."""

    def make(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", size, color).save(buf, format="PNG")
        return buf.getvalue()

    return make


@pytest.fixture(scope="session")
def media_root(tmp_path_factory) -> Path:
    """Uploads of the whole session, shared with the worker process (it reads photos)."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, media_root):
    settings.MEDIA_ROOT = media_root


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (ranked results, query vectors, throttles): the
    database is rolled back between tests and cached ids would point at other tests' rows."""
    from django.core.cache import cache

    from search.facets import forget_category_labels
    from search.indexing.indexes import forget_active_index
    from search.insights.clicks import forget_click_signal

    cache.clear()
    # The process-local ones: their rows may be another test's.
    forget_active_index()
    forget_category_labels()
    from search.merchandising.rules import forget_rules
    from search.merchandising.synonyms import forget_synonyms

    forget_rules()
    forget_synonyms()
    forget_click_signal()


def _wait_for_worker(app, name: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited early with {proc.returncode}")
        replies = app.control.ping(destination=[name], timeout=0.5) or []
        if replies:
            return
    raise RuntimeError("celery worker did not answer a ping in time")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, media_root, tmp_path_factory):
    """A real `celery worker` process on the embed, default, imports and query queues, on the test
    database. Tests that use it need committed data: mark them `django_db(transaction=True)`."""
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    database_url = f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}"
    app.control.purge()  # a previous run's leftovers must not run against this database
    name = f"test-{os.getpid()}@localhost"
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "VITRINE_MEDIA_ROOT": str(media_root),
        "HF_HUB_OFFLINE": "1",
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker",
             "-Q", "embed,default,imports,query", "-c", "1", "-n", name, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_for_worker(app, name, proc)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if os.environ.get("CI"):
            sys.stderr.write(log.read_text(errors="replace")[-4000:])


@pytest.fixture
def image_host(settings):
    """A local image host: (base URL, routes). Loopback is refused by default; the test
    allow-lists only 127.0.0.1, as an operator would allow an internal CDN."""
    import threading
    from http.server import ThreadingHTTPServer

    from tests.support.image_host import ImageHostHandler

    settings.VITRINE_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), ImageHostHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", ImageHostHandler.routes
    server.shutdown()
    ImageHostHandler.routes.clear()
    ImageHostHandler.hits.clear()
