"""Production settings: `manage.py check --deploy` is clean, DEBUG is off, the secret comes
from the environment (or nothing starts), https is enforced except for the /livez and /healthz
probes.

Each check imports the settings in a subprocess with a production environment, since the
settings module reads the environment once, at import."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

BASE_DIR = Path(__file__).resolve().parents[2]

DUMP = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({k: getattr(s, k, None) for k in [
    "DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_PROXY_SSL_HEADER",
    "X_FRAME_OPTIONS", "SERVE_MEDIA"]} | {"NUM_PROXIES": s.REST_FRAMEWORK["NUM_PROXIES"]}))
"""


def production_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VITRINE_SECURE", "VITRINE_SSL", "VITRINE_HSTS", "DJANGO_"))
        and k != "VITRINE_DEBUG"
    }
    # DATABASE_URL / REDIS_URL: the embedded servers of this test run (the test bootstrap
    # exported them), as production points at its own.
    env.update(
        VITRINE_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SETTINGS_MODULE="config.settings",
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_for_the_production_settings():
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = run(["-c", code], production_env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no issues" in result.stdout + result.stderr


def test_production_settings_are_strict_and_secrets_come_from_the_environment():
    env = production_env()
    result = run(["-c", DUMP], env)
    assert result.returncode == 0, result.stderr[-3000:]
    s = json.loads(result.stdout.strip().splitlines()[-1])
    assert s["DEBUG"] is False
    assert s["SECRET_KEY"] == env["DJANGO_SECRET_KEY"]
    assert s["SECURE_SSL_REDIRECT"] is True and s["SECURE_REDIRECT_EXEMPT"] == [
        "^livez$",
        "^healthz$",
    ]
    assert s["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] and s["X_FRAME_OPTIONS"] == "DENY"
    assert s["SECURE_PROXY_SSL_HEADER"] is None  # trusted only when configured
    assert s["NUM_PROXIES"] == 0  # X-Forwarded-For ignored unless configured


def test_proxy_and_https_toggles_come_from_the_environment():
    env = production_env(
        VITRINE_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        VITRINE_SSL_REDIRECT="0",
        VITRINE_HSTS_SECONDS="300",
        VITRINE_NUM_PROXIES="1",
    )
    result = run(["-c", DUMP], env)
    assert result.returncode == 0, result.stderr[-3000:]
    s = json.loads(result.stdout.strip().splitlines()[-1])
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_SSL_REDIRECT"] is False and s["SECURE_HSTS_SECONDS"] == 300
    assert s["NUM_PROXIES"] == 1


def test_without_a_secret_key_production_refuses_to_start():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = run(["-c", "import config.settings"], env)
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_development_defaults_keep_make_run_working():
    env = {k: v for k, v in production_env().items() if k not in {"VITRINE_DEBUG"}}
    result = run(["-c", DUMP], env)
    s = json.loads(result.stdout.strip().splitlines()[-1])
    assert s["DEBUG"] is True and not s["SECURE_SSL_REDIRECT"] and not s["SECURE_HSTS_SECONDS"]


HTTPS = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_REDIRECT_EXEMPT": [r"^livez$", r"^healthz$"],
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


@pytest.mark.django_db
def test_https_is_enforced_except_for_the_health_probe(client):
    with override_settings(**HTTPS):
        plain = client.get("/api/v1/search", {"q": "mug"})
        assert plain.status_code == 301 and plain["Location"].startswith("https://")
        assert client.get("/healthz").status_code in (200, 503)  # probes stay on http
        assert client.get("/livez").status_code == 200
        proxied = client.get("/", HTTP_X_FORWARDED_PROTO="https")
        assert proxied.status_code == 200
        assert "includeSubDomains" in proxied["Strict-Transport-Security"]
        assert proxied["X-Content-Type-Options"] == "nosniff"
        assert proxied["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_errors_do_not_leak_debug_pages_in_production(client):
    with override_settings(DEBUG=False):
        response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"URLconf" not in response.content and b"Traceback" not in response.content
