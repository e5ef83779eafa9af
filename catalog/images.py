"""Opening photos from strangers safely: shop uploads, imports and shoppers' query photos.

Every path that turns bytes into pixels goes through `open_photo`: the size is capped before
decoding, the type is sniffed from the bytes (never the file name or Content-Type), Pillow's
decompression-bomb guard is an error rather than a warning, and EXIF orientation is applied
so a phone photo is upright for the model as it is for the shopper.
"""

from __future__ import annotations

import io
import warnings

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

# The formats we decode, and the extension each is stored and served under: it decides the
# Content-Type, so it comes from what the bytes are, never from the uploader's name (a PNG
# called "x.html" must not be served as a page).
PHOTO_EXTENSIONS = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "TIFF": "tiff",
}
ALLOWED_FORMATS = set(PHOTO_EXTENSIONS)


class PhotoRejected(ValueError):
    """The bytes are not a photo we will decode. `reason` is safe to show to the sender;
    `too_large` distinguishes 413 from 400 for HTTP callers."""

    def __init__(self, reason: str, *, too_large: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def sniff_format(content: bytes) -> str:
    """The image format the bytes really are, or PhotoRejected."""
    try:
        with Image.open(io.BytesIO(content)) as probe:
            fmt = probe.format or ""
    except UnidentifiedImageError:
        raise PhotoRejected("not an image (JPEG, PNG, WebP or GIF expected)") from None
    except Image.DecompressionBombError:
        raise PhotoRejected("image has too many pixels to decode safely", too_large=True) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected(
            f"the photo is damaged or truncated ({exc.__class__.__name__})"
        ) from None
    if fmt not in ALLOWED_FORMATS:
        raise PhotoRejected(f"{fmt or 'unknown'} images are not accepted")
    return fmt


def open_photo(
    content: bytes, *, max_bytes: int | None = None, max_side: int | None = None
) -> Image.Image:
    """Decode untrusted bytes into an upright RGB image (shrunk to `max_side` if given).

    Raises PhotoRejected with a reason a person can act on."""
    limit = max_bytes or settings.VITRINE_MAX_PHOTO_BYTES
    if not content:
        raise PhotoRejected("the photo is empty")
    if len(content) > limit:
        raise PhotoRejected(
            f"the photo is {len(content) // 1024} KiB; the limit is {limit // 1024} KiB",
            too_large=True,
        )
    sniff_format(content)
    max_pixels = settings.VITRINE_MAX_PHOTO_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as raw:
                if raw.width * raw.height > max_pixels:
                    raise PhotoRejected(
                        f"the photo is {raw.width}x{raw.height} pixels; the limit is "
                        f"{max_pixels // 1_000_000} megapixels",
                        too_large=True,
                    )
                if max_side:
                    raw.draft("RGB", (max_side, max_side))  # JPEG: decode at reduced scale
                image = ImageOps.exif_transpose(raw)
                image.load()
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected("image has too many pixels to decode safely", too_large=True) from None
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError) as exc:
        raise PhotoRejected(
            f"the photo is damaged or truncated ({exc.__class__.__name__})"
        ) from None
    if max_side:
        image.thumbnail((max_side, max_side))
    return image.convert("RGB")
