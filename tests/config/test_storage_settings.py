"""Where uploads live: the local filesystem unless VITRINE_STORAGE=s3 points every host at one
S3-compatible bucket (django-storages); a wrong value stops the process at start, not at the
first photo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.storage import FILESYSTEM_BACKEND, S3_BACKEND, media_storage

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_filesystem_is_the_default():
    assert media_storage(kind="") == {"BACKEND": FILESYSTEM_BACKEND}
    assert media_storage(kind="filesystem", bucket="ignored") == {"BACKEND": FILESYSTEM_BACKEND}


def test_s3_names_the_bucket_endpoint_region_and_prefix():
    storage = media_storage(
        kind="S3",
        bucket="shop-media",
        endpoint_url="http://minio:9000",
        region="eu-west-1",
        prefix="vitrine",
    )
    assert storage["BACKEND"] == S3_BACKEND
    assert storage["OPTIONS"] == {
        "bucket_name": "shop-media",
        "endpoint_url": "http://minio:9000",
        "region_name": "eu-west-1",
        "location": "vitrine",
        "file_overwrite": True,
        "querystring_auth": True,  # a private bucket: browsers get signed URLs
    }


def test_a_cdn_domain_serves_plain_urls():
    options = media_storage(kind="s3", bucket="b", custom_domain="img.shop.example")["OPTIONS"]
    assert options["custom_domain"] == "img.shop.example"
    assert options["querystring_auth"] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"kind": "s3"}, "VITRINE_S3_BUCKET"), ({"kind": "nfs"}, "filesystem, s3")],
)
def test_an_incomplete_or_unknown_storage_is_refused(kwargs, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage(**kwargs)


def test_the_settings_read_the_storage_from_the_environment():
    """config.settings in a fresh interpreter, as a worker on another host loads it."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "VITRINE_STORAGE": "s3",
        "VITRINE_S3_BUCKET": "shop-media",
        "VITRINE_S3_ENDPOINT_URL": "http://minio:9000",
    }
    script = (
        "import json, config.settings as s; "
        "print(json.dumps([s.STORAGES['default'], sorted(s.STORAGES)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert '"bucket_name": "shop-media"' in out.stdout
    assert '"endpoint_url": "http://minio:9000"' in out.stdout
    assert '["default", "staticfiles"]' in out.stdout
