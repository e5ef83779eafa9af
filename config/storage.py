"""Where uploaded files live: product photos, import files and their photo zips.

The local filesystem (`VITRINE_MEDIA_ROOT`, a volume every process mounts) is the default. A
shop whose workers run on other hosts keeps them in an S3-compatible bucket instead
(`VITRINE_STORAGE=s3`, through django-storages: `pip install "vitrine[s3]"`), so that an embed
worker on a GPU host reads the photo the web stored. Code reads files through the storage API
(`field.open()`, `storage.open(name)`), never a local path, so either works unchanged.

A pure function of the values config/settings.py reads: nothing is imported or contacted
here (django-storages imports boto3 when the storage is first used).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

STORAGE_KINDS = ("filesystem", "s3")
FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"


def media_storage(
    *,
    kind: str,
    bucket: str = "",
    endpoint_url: str = "",
    region: str = "",
    prefix: str = "",
    custom_domain: str = "",
) -> dict:
    """Django's STORAGES["default"] for `kind` ("filesystem" or "s3").

    S3 credentials are never settings of ours: boto3 finds them itself (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY in the environment, a profile, or the host's instance role)."""
    kind = (kind or "filesystem").strip().lower()
    if kind not in STORAGE_KINDS:
        raise ImproperlyConfigured(
            f"VITRINE_STORAGE must be one of {', '.join(STORAGE_KINDS)}, not {kind!r}."
        )
    if kind == "filesystem":
        return {"BACKEND": FILESYSTEM_BACKEND}
    if not bucket.strip():
        raise ImproperlyConfigured("VITRINE_STORAGE=s3 needs VITRINE_S3_BUCKET.")
    options: dict = {
        "bucket_name": bucket.strip(),
        # Photos are stored under their checksum and import files under a random folder, so a
        # name is never reused for other bytes: overwriting loses nothing, and it spares each
        # save the requests that look for a free name.
        "file_overwrite": True,
        # The bucket stays private and browsers get signed URLs, unless a CDN domain in front
        # of the bucket serves the photos (then plain URLs on that domain).
        "querystring_auth": not custom_domain.strip(),
    }
    optional = {
        "endpoint_url": endpoint_url,  # MinIO, Ceph, R2...; empty = AWS
        "region_name": region,
        "location": prefix,  # a folder inside the bucket
        "custom_domain": custom_domain,
    }
    options.update({key: value.strip() for key, value in optional.items() if value.strip()})
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
