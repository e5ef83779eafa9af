"""What browser tests (tests/e2e) do the way a person does it."""

from __future__ import annotations


def log_in(page, login_url: str, *, username: str, password: str) -> None:
    """Sign in through the admin's own login form at `login_url` (its `next` says where the
    browser lands; the caller waits for that page)."""
    page.goto(login_url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
