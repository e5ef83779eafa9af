"""Shoppers' query photos between the upload and the results pages.

The storefront takes a photo by POST and answers with a redirect to a plain GET results page
(so it can be paged, refreshed and bookmarked). In between, the normalised photo waits in the
cache (Redis) for an hour under a key derived from its bytes: the same photo gets the same key,
and a key says nothing about who uploaded it. The key is an HMAC (SHA-256, keyed with
SECRET_KEY) rather than a bare hash, so someone holding a photo cannot probe whether another
shopper searched with it.
"""

from __future__ import annotations

import io
import re

from django.core.cache import cache
from django.utils.crypto import salted_hmac
from PIL import Image

from catalog.images import open_photo
from search.photos import QUERY_PHOTO_MAX_SIDE

PHOTO_TTL_S = 60 * 60
KEY_PATTERN = r"[0-9a-f]{32}"
_KEY = re.compile(rf"^{KEY_PATTERN}$")
_JPEG_QUALITY = 90


def is_photo_key(key: str) -> bool:
    return bool(_KEY.match(key or ""))


def _cache_key(key: str) -> str:
    return f"query-photo:{key}"


def store_query_photo(image: Image.Image) -> str:
    """Keep the (already checked and decoded) photo as a JPEG for PHOTO_TTL_S; its key."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=_JPEG_QUALITY)
    content = buf.getvalue()
    key = salted_hmac("vitrine.query-photo", content, algorithm="sha256").hexdigest()[:32]
    cache.set(_cache_key(key), content, timeout=PHOTO_TTL_S)
    return key


def query_photo_bytes(key: str) -> bytes | None:
    """The stored JPEG, or None when the key is malformed, unknown or expired."""
    if not is_photo_key(key):
        return None
    return cache.get(_cache_key(key))


def load_query_photo(key: str) -> Image.Image | None:
    """The stored photo decoded for the model, or None when it has expired. Decoded through
    `open_photo` like any other photo (raises PhotoRejected if the entry is not one)."""
    content = query_photo_bytes(key)
    if content is None:
        return None
    return open_photo(content, max_side=QUERY_PHOTO_MAX_SIDE)
