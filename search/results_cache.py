"""The results cache: a query's whole ranked list (so page 2 comes from the same list as page
1) and a text query's vector (so repeated head queries skip the encoder). search.services
reads both in one Redis round trip and writes them in another; this module says what the
keys hold and how long entries live."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from search.insights.clicks import NO_CLICKS, QueryClicks
from search.query import SearchRequest

if TYPE_CHECKING:
    from search.models import SearchIndex

# How long a query's ranked list is kept: long enough for a shopper to page through it and
# to come back from a product page, short enough that catalog edits show within minutes.
RESULTS_CACHE_S = 300
# How long a text query's vector is kept (per index): repeated head queries skip the
# encoder. A vector never goes stale for its index, so this only bounds the cache's size.
QUERY_VECTOR_CACHE_S = 24 * 3600

# Cache entries a search writes at its end, in one round trip: key -> (value, timeout).
CacheWrites = dict[str, tuple[object, int]]


def ranking_cache_key(
    request: SearchRequest, index: SearchIndex | None, limit: int, clicks: QueryClicks = NO_CLICKS
) -> str:
    """Everything that shapes a ranked list, so a list is never served for another question
    (merchandising adds its part: search.merchandising.pipeline)."""
    digest = hashlib.sha256()
    parts = [
        index.pk if index else None,
        request.mode,
        request.query,
        repr(request.filters),
        request.rerank and settings.VITRINE_RERANKER,
        limit,
        settings.SEARCH_FUSION,
        settings.SEARCH_FUSION_WEIGHTS,
        # Learning shows on the next search: what clicks say of this query is in its key.
        clicks.digest and (settings.VITRINE_CLICK_BOOST, clicks.digest),
    ]
    digest.update(repr(parts).encode())
    if request.photo is not None:
        digest.update(request.photo.tobytes())
    return "search:ranking:" + digest.hexdigest()


def query_vector_key(index: SearchIndex | None, request: SearchRequest) -> str | None:
    """Text queries' vectors are cached per index (head queries repeat a lot)."""
    if index is None or request.photo is not None or not request.query:
        return None
    if request.mode == "lexical":  # no vector needed
        return None
    return f"search:qvec:{index.pk}:" + hashlib.sha256(request.query.encode()).hexdigest()


def write_each(writes: CacheWrites) -> None:
    """The entries in one round trip on the shop's Redis cache (its backend's `set_each`:
    Django's set_many gives every key one timeout); one `set` per key on another backend
    (evaluate_search runs with a private in-memory one)."""
    set_each = getattr(cache, "set_each", None)
    if set_each is not None:
        set_each(writes)
        return
    for key, (value, timeout) in writes.items():
        cache.set(key, value, timeout)
