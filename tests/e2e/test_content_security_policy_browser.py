"""Every kind of page works in a real browser under the Content-Security-Policy, and the
browser blocks nothing on them: the storefront (home, a search with its refine sidebar, a
product page), the admin (login, lists, the import page, parked tasks) and the API docs
(Swagger UI renders its operations). A blocked script or style would be reported as a
`securitypolicyviolation` event and a console error; both are collected on every page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from catalog import services as catalog
from tests.support.browser import log_in
from tests.support.catalogs import load_shop_rows

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def shop(transactional_db, png_bytes):
    load_shop_rows()
    product, _ = catalog.upsert_product(sku="CSP-1", name="Red enamel mug", brand="Potter")
    catalog.attach_image(product=product, content=png_bytes("red"), filename="mug.png", alt="mug")
    User.objects.create_superuser("boss", password="pw-boss-1")


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error collected, page by page."""
    console: list[str] = []
    page.add_init_script(COLLECT_VIOLATIONS)
    page.on(
        "console",
        lambda m: (
            console.append(m.text)
            if (m.type == "error" and not m.text.startswith("Failed to load resource"))
            or "Security Policy" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: console.append(f"uncaught: {exc}"))
    # Failed loads by URL (the console's own line does not say which); browsers ask for a
    # /favicon.ico the shop does not have.
    page.on(
        "response",
        lambda r: (
            console.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )

    def check(where: str) -> None:
        violations = page.evaluate("window.__cspViolations || []")
        assert violations == [], f"{where}: the CSP blocked {violations}"
        assert console == [], f"{where}: console errors {console}"

    page.check_csp = check  # type: ignore[attr-defined]
    return page


@pytest.mark.django_db(transaction=True)
def test_storefront_admin_and_api_docs_work_under_the_csp(shop, live_server, watched, artifacts):
    page, base = watched, live_server.url

    response = page.goto(f"{base}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    # The stylesheet applied (a static file now, not an inline <style>).
    assert (
        page.locator(".site-header").evaluate("e => getComputedStyle(e).borderBottomStyle")
        == "solid"
    )
    page.check_csp("home")

    page.get_by_role("combobox").first.fill("running shoes")  # the search box, with suggestions
    page.get_by_role("button", name="Search").first.click()
    page.wait_for_url(re.compile(r"/search\?q=running"))
    assert page.locator("article.result").count() > 0
    # refine.js (a static file) submits the sidebar as soon as a box is ticked.
    page.locator(".facets input[type=checkbox]").first.check()
    page.wait_for_url(re.compile(r"(brand|category)="))
    page.check_csp("search results")

    page.goto(f"{base}/products/CSP-1/")
    photo = page.locator(".gallery-main img")
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")  # the photo loaded
    page.check_csp("product page")

    log_in(page, f"{base}/admin/login/?next=/admin/", username="boss", password="pw-boss-1")
    page.wait_for_url(f"{base}/admin/")
    for path in (
        "/admin/catalog/product/",
        "/admin/catalog/product/add/",
        "/admin/catalog/importjob/upload/",
        "/admin/search/parkedtask/",
    ):
        assert page.goto(f"{base}{path}").status == 200, path
        page.check_csp(path)

    page.goto(f"{base}/api/docs/")
    search = page.locator('.opblock-summary-path[data-path="/api/v1/search"]')
    search.first.wait_for(state="visible", timeout=15_000)
    # Unfold the search operation (GET, with its query parameters).
    page.locator(".opblock-get", has=search).first.locator(".opblock-summary-control").click()
    page.locator(".parameters-col_name").first.wait_for(state="visible")
    page.screenshot(path=str(artifacts / "api-docs-under-csp.png"))
    page.check_csp("/api/docs/")
