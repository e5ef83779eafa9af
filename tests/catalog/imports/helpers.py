"""What the import tests share: the CSV header, zips of photos, and an upload run as the
worker runs it."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.imports import jobs, runner
from catalog.models import ImportJob

HEADER = "sku,name,description,brand,category,price,currency,attributes,images\n"


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buf.getvalue()


def zip_with_member(name: str, data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A tiny PNG that claims side x side pixels (900 megapixels by default)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + side // 8) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def run_import(
    content: bytes | str, *, name: str = "catalog.csv", photos: bytes | None = None
) -> ImportJob:
    """Upload as the admin/API does, then run the job as the worker does."""
    if isinstance(content, str):
        content = content.encode()
    job = jobs.start_import(
        file=SimpleUploadedFile(name, content),
        images=SimpleUploadedFile("photos.zip", photos) if photos is not None else None,
    )
    return runner.run_import(job_id=job.pk)


def errors_of(job: ImportJob) -> list[dict]:
    return list(job.issues.filter(kind="error").values("line", "sku", "field", "message"))


def warnings_of(job: ImportJob) -> list[dict]:
    return list(job.issues.filter(kind="warning").values("line", "sku", "message"))
