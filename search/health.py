"""Liveness and readiness, as probes expect them, without loading a model.

GET /livez: the process answers HTTP; nothing else is checked (a database outage must not get
web processes restarted: restarting would not bring the database back).
GET /healthz: readiness. 200 when the shop can serve (database, Redis and a Celery worker
answer), 503 naming what is down. The search index is reported, never failed: an empty shop
answers every search with 0 results, and products not embedded yet are found by their words,
so neither is a reason to keep the web out of service - least of all before the first
import, which needs the web. Nor are read replicas (DATABASE_REPLICA_URLS): each is reported
with its lag, and one that is down or behind only sends searches to the primary."""

from __future__ import annotations

import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from search.indexing.indexes import active_index, index_status
from search.indexing.sweeper import failed_task_count
from search.replicas import replica_aliases, replicas_report


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
        return {"ok": True, "pgvector": row[0] if row else None}
    except Exception as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}


def _redis() -> dict:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}


def _workers() -> dict:
    try:
        replies = current_app.control.ping(timeout=1.0) or []
    except Exception as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return {"ok": False, "error": "no Celery worker answered within 1 s"}
    return {"ok": True, "workers": names}


def index_state(counts: dict[str, int]) -> str:
    """The active index in one word: "empty" (no products yet), "building" (products wait to
    be embedded: search by meaning finds only the others meanwhile), "ready"."""
    if counts["products"] == 0:
        return "empty"
    return "building" if counts["pending"] else "ready"


def health_report() -> tuple[bool, dict]:
    report: dict = {"database": _database(), "redis": _redis()}
    report["worker"] = (
        _workers() if report["redis"]["ok"] else {"ok": False, "error": "Redis is down"}
    )
    if report["database"]["ok"]:
        index = active_index()
        # Informative: the model is not loaded here, and no index yet is not a failure.
        report["model"] = {
            "ok": True,
            "embedder": settings.VITRINE_EMBEDDER,
            "reranker": settings.VITRINE_RERANKER,
            "modalities": index.modalities if index else [],
            "photos_embedded": bool(index and "image" in index.modalities),
        }
        if index is None:
            report["model"]["note"] = "no search index yet: the first embedded product makes it"
        elif index.embedder != settings.VITRINE_EMBEDDER:
            report["model"]["note"] = (
                f"serving index of {index.embedder}; configured {settings.VITRINE_EMBEDDER}"
            )
        counts = index_status(index)
        report["index"] = {
            "active_model": index.embedder if index else None,
            "state": index_state(counts),
            **counts,
        }
        # Informative, not a health verdict: search serves the old vectors (or keywords) for
        # these products and the sweeper retries them; the admin lists them.
        report["tasks"] = {"failed": failed_task_count()}
    else:
        report["model"] = {"ok": False, "error": "database is down"}
    if replica_aliases():
        # Informative: a replica down or behind only sends searches to the primary.
        report["replicas"] = replicas_report()
    healthy = all(part["ok"] for part in (report["database"], report["redis"], report["worker"]))
    report["status"] = "ok" if healthy else "degraded"
    return healthy, report


@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
