"""The storefront search page's rate limit per client, like the API's: DRF's throttle (its
history in the shared Redis cache, the client address as VITRINE_NUM_PROXIES says), at
VITRINE_STOREFRONT_THROTTLE. Over it, a shopper gets a friendly 429 page with Retry-After.
When Redis is down the cache answers misses and the page is not limited (fail open), as
the API."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle


class StorefrontThrottle(SimpleRateThrottle):
    scope = "storefront"

    def get_rate(self) -> str | None:
        # Read on every request (not once at import as DRF's scopes are).
        return settings.VITRINE_STOREFRONT_THROTTLE or None

    def get_cache_key(self, request, view) -> str | None:
        if request.user.is_staff:  # staff checking the shop are not the crowd this guards against
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 429 with the "slow down" page once a client is over the storefront's rate."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = StorefrontThrottle()
        if throttle.allow_request(request, None):
            return view(request, *args, **kwargs)
        retry_after = max(1, math.ceil(throttle.wait() or 1))
        response = render(request, "429.html", {"retry_after": retry_after}, status=429)
        response["Retry-After"] = str(retry_after)
        return response

    return guarded
