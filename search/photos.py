"""A shopper's query photo, from an upload, a URL or base64, checked and decoded once."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from catalog.images import PhotoRejected, open_photo
from catalog.remote import FetchRejected, fetch_image_bytes

# Models resize query photos far below this; decoding more pixels only costs memory.
QUERY_PHOTO_MAX_SIDE = 1024


class QueryPhotoRejected(ValueError):
    def __init__(self, reason: str, *, too_large: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def read_query_photo(
    *, upload: UploadedFile | None = None, url: str = "", base64_data: str = ""
) -> Image.Image | None:
    """The decoded photo of whichever source was given (at most one), or None."""
    given = [x for x in (upload, url, base64_data) if x]
    if not given:
        return None
    if len(given) > 1:
        raise QueryPhotoRejected("send one photo: an upload, image_url or image_base64")
    limit = settings.VITRINE_MAX_PHOTO_BYTES
    try:
        if upload is not None:
            if upload.size and upload.size > limit:
                raise PhotoRejected(f"the photo is larger than {limit // 1024} KiB", too_large=True)
            content = upload.read(limit + 1)
        elif url:
            content = fetch_image_bytes(url)
        else:
            if len(base64_data) > limit * 4 // 3 + 4:
                raise PhotoRejected(f"the photo is larger than {limit // 1024} KiB", too_large=True)
            payload = (
                base64_data.split(",", 1)[1] if base64_data.startswith("data:") else base64_data
            )
            try:
                content = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                raise PhotoRejected("image_base64 is not valid base64") from None
        return open_photo(content, max_side=QUERY_PHOTO_MAX_SIDE)
    except (PhotoRejected, FetchRejected) as exc:
        raise QueryPhotoRejected(exc.reason, too_large=exc.too_large) from None
