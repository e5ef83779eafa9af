"""Wiring of the admin login's guard against password guessing (django-axes): who the client
is, and which logins it watches. Referenced by dotted path from config/settings.py."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str:
    """The client's address as the API throttle sees it (VITRINE_NUM_PROXIES: 0 ignores
    X-Forwarded-For, so a guesser cannot pose as a new client with every attempt)."""
    return BaseThrottle().get_ident(request)


class LoginGuard(AxesStandaloneBackend):
    """Refuses logins of a locked account or from a locked client. A login without a request
    (the shell, a test client's `login()`) is not a web login: there is no client to count,
    so it is left to the other backends instead of failing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
