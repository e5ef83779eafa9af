"""Reading Vitrine's environment: typed variables, the var dir, and the service URLs.

Pure functions, no side effects: the settings, the entry points' bootstrap and the `make run`
supervisor all read the environment through them, so `VITRINE_DEMO=false` or an empty
`VITRINE_VAR_DIR` means the same thing everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def var_dir() -> Path:
    """Where the embedded servers, uploads and `make run`'s logs live (`VITRINE_VAR_DIR`,
    default ./var). Only computed here: whoever writes there creates it."""
    return Path(os.environ.get("VITRINE_VAR_DIR") or BASE_DIR / "var").resolve()


def database_from_url(url: str, *, conn_max_age: int) -> dict:
    """`postgresql://user:pass@host:port/name?host=/socket/dir` -> Django DATABASES entry."""
    parts = urlparse(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": query.pop("host", None) or parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": query,
    }


def redis_url_for_kombu(url: str) -> str:
    """Kombu (the broker) and Celery's result backend spell a unix-socket Redis
    `redis+socket://`; redis-py spells it `unix://`."""
    if url.startswith("unix://"):
        return "redis+socket://" + url[len("unix://") :]
    return url


def static_root() -> Path:
    """Where `collectstatic` puts the static files that WhiteNoise serves."""
    return Path(os.environ.get("VITRINE_STATIC_ROOT") or var_dir() / "static")
