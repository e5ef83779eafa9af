"""/api/docs/ is served from the project's own static files (drf-spectacular-sidecar), so it
works offline and runs no third-party code fetched at @latest: the page names no other host,
and in production (DEBUG off, collectstatic, WhiteNoise) every file it loads is served.
In a real browser with the network blocked: tests/e2e/test_api_docs_browser.py."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

# Every URL the page loads: src/href attributes, and the schema URL its script fetches.
ATTRIBUTE_URL = re.compile(r'\b(?:src|href)="([^"]*)"')


def page_urls(html: str) -> list[str]:
    return ATTRIBUTE_URL.findall(html)


def test_the_docs_page_names_no_other_host(db, client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = page_urls(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls), urls
    for url in urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, url
        # Swagger UI's files, our own stylesheet, and the start-up script the view serves as a
        # file (no inline script: the Content-Security-Policy).
        assert url.startswith("/static/") or url == "/api/docs/?script=", url
    # Nothing else reaches out either: no CDN anywhere, and Swagger UI's validator badge
    # (which would send the schema's address to validator.swagger.io) is off.
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    for text in (html, script.content.decode()):
        assert "cdn.jsdelivr.net" not in text and "unpkg.com" not in text
    assert re.search(r'"validatorUrl":\s*null', script.content.decode())
    assert 'url: "/api/schema/"' in script.content.decode()


@pytest.mark.django_db
def test_in_production_whitenoise_serves_every_file_the_docs_page_loads(client, settings, tmp_path):
    """As the Docker image does: collectstatic at build time, DEBUG off, WhiteNoise serving
    STATIC_ROOT (Django itself serves no /static/ with DEBUG off)."""
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    assert settings.DEBUG is False
    html = client.get("/api/docs/").content.decode()
    assets = page_urls(html)
    assert len(assets) >= 4  # css, favicon, the bundle, the standalone preset
    script = client.get("/api/docs/?script=")  # the start-up script, from the view itself
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    for url in (a for a in assets if a.startswith("/static/")):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content)
        assert body == (settings.STATIC_ROOT / url.removeprefix("/static/")).read_bytes()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert "/api/v1/search" in schema.json()["paths"]
