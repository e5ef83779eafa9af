"""An API client opens /api/docs/ in a real browser with every request to another host
blocked (as on a machine without internet, or behind a strict firewall): Swagger UI still
renders, from the project's own static files, and lists the search endpoint."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.mark.django_db(transaction=True)
def test_api_docs_render_the_search_endpoint_with_the_network_blocked(live_server, page, artifacts):
    blocked: list[str] = []

    def only_this_server(route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https") and url.hostname not in LOCAL_HOSTS:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    page.route("**/*", only_this_server)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    page.goto(f"{live_server.url}/api/docs/")
    search = page.locator('.opblock-summary-path[data-path="/api/v1/search"]')
    search.first.wait_for(state="visible", timeout=15_000)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Vitrine API")
    methods = page.locator(".opblock:has(.opblock-summary-path[data-path='/api/v1/search'])")
    assert {m.lower() for m in methods.locator(".opblock-summary-method").all_inner_texts()} == {
        "get",
        "post",
    }

    # Open the GET operation: its documented parameters render too.
    methods.filter(has=page.locator(".opblock-summary-method", has_text="GET")).first.locator(
        ".opblock-summary-control"
    ).click()
    page.locator(".parameters-col_name", has_text="mode").first.wait_for(state="visible")
    page.screenshot(path=str(artifacts / "api-docs-offline.png"), full_page=False)

    assert blocked == [], f"the docs page reached out to other hosts: {blocked}"
    assert failed == [], f"requests that failed: {failed}"
