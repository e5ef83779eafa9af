"""Browser tests: Playwright (pytest-playwright's `page` fixture) drives Debian's `chromium`
package at /usr/bin/chromium against pytest-django's `live_server`. No browser is ever
downloaded: `playwright install` is neither needed nor run. Without /usr/bin/chromium (or
without Playwright) these tests skip and say why; CI (.ci/run) installs the package."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _in_here(item) -> bool:
    return Path(__file__).parent in Path(item.path).parents


@pytest.hookimpl(trylast=True)  # after pytest-django's own reordering (transactional tests last)
def pytest_collection_modifyitems(config, items):
    """Browser tests run last, and skip (saying why) where there is no browser.

    Last: pytest-playwright's browser lives for the rest of the session once started, and
    with it an asyncio event loop that Playwright's sync API keeps "running" in the main
    thread, so Django refuses ORM calls there ("You cannot call this from an async context").
    Run after every other database test, nothing else meets that loop; the browser tests
    themselves lift the check (see `_orm_beside_playwright`)."""
    items[:] = [i for i in items if not _in_here(i)] + [i for i in items if _in_here(i)]
    reason = None
    if not CHROMIUM.exists():
        reason = f"no browser: {CHROMIUM} is missing (make browser, or apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "Playwright is not installed (pip install -e '.[dev]')"
    if reason:
        for item in items:
            if _in_here(item):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at the system Chromium."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an asyncio event loop running in the test thread for as
    long as the browser is open, so Django's async-safety check refuses every ORM call made
    there ("You cannot call this from an async context"), pytest-django's database flush
    after a transactional test included. Nothing here is concurrent: the test thread and the
    loop take turns (greenlets), and the live server answers from its own thread. So the check
    is switched off (DJANGO_ALLOW_ASYNC_UNSAFE) while the browser test modules run, and only
    then. Module scope: it must outlive each test's database teardown."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
        yield


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/, gitignored), kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
