"""A file storage like an object-store bucket: files are read and written through the storage
API only, and there is no local path to cheat with (what a worker on another host sees)."""

from __future__ import annotations

import os

from django.core.files.storage import InMemoryStorage


class BucketLikeStorage(InMemoryStorage):
    """InMemoryStorage that refuses `path()` (as S3Storage does) and remembers what was
    opened, so a test can tell a photo was read through it."""

    opened: list[str] = []

    def path(self, name: str) -> str:
        raise NotImplementedError("a bucket has no local path")

    def _relative_path(self, name):
        # InMemoryStorage keys its tree by a path it computes itself (nothing on disk).
        return os.path.relpath(InMemoryStorage.path(self, name), self.location)

    def _open(self, name, mode="rb"):
        type(self).opened.append(name)
        return super()._open(name, mode)


STORAGES = {
    "default": {"BACKEND": "tests.support.storages.BucketLikeStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
