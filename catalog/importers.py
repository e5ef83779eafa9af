"""Bulk catalog imports: CSV or JSON Lines, with photos from a zip, a folder or URLs.

The file is streamed twice and never held in memory. A first pass checks what can fail
the whole file (not text, not UTF-8, no `sku` column, unsafe or oversized zip, too many
rows) before anything is written, so a rejected file changes nothing. The second pass
validates each row on its own (a bad row fails alone, with its line, column and reason),
loads its photos (a bad photo is a warning: the product lands text-only) and writes the
rows in batches through `catalog.services.save_products`, one transaction per batch
together with the job's counters, report rows and `resume_line`. A run that dies is
continued from the last committed batch; re-running a whole file is harmless (upsert by SKU).

Row format (CSV header names, JSON keys): sku, name, description, brand, category
("A/B/C", or a list in JSON), price (empty/null = none), currency, attributes (a JSON
object; in CSV a JSON object string), images (in CSV `|`-separated; an entry is a file
name in the uploaded zip, a path under `--images DIR`, or an http(s) URL), active.
ESCI-style rows (asin, title, bullet_points, image) are read too. Other columns are kept as
attributes (with a warning naming them); `import_error` (our failed-rows report) is ignored.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import logging
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone
from PIL import Image

from catalog import services
from catalog.images import PhotoRejected, open_photo, sniff_format
from catalog.models import ImportIssue, ImportJob, Product
from catalog.remote import FetchRejected, fetch_image_bytes

logger = logging.getLogger(__name__)

COLUMNS = (
    "sku",
    "name",
    "description",
    "brand",
    "category",
    "price",
    "currency",
    "attributes",
    "images",
    "active",
)
REPORT_COLUMN = "import_error"  # added to the failed-rows CSV; ignored when it comes back
ESCI_ALIASES = {"asin": "sku", "title": "name", "image": "images"}
IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}
TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off"}
CHECK_SIDE = 512  # photos are test-decoded at this size at most
ORIENTATION_TAG = 0x0112


class ImportFileRejected(Exception):
    """The file (or the photos zip) as a whole cannot be imported; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _LostClaim(Exception):
    """Another run took the job over (this one was presumed dead); stop quietly."""


# --- Reading the file ----------------------------------------------------------------------


@dataclass
class Record:
    """One row of the file: its first line number and its values (None: unreadable)."""

    line: int
    data: dict[str, Any] | None
    error: str = ""
    cells: list[str] | None = None  # CSV: the cells as they were, for the failed-rows report


_MAGIC = [
    (b"PK\x03\x04", "a zip archive (an Excel workbook?); export the sheet as CSV UTF-8"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file; export the sheet as CSV UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16 text; save it as UTF-8"),
    (codecs.BOM_UTF16_BE, "UTF-16 text; save it as UTF-8"),
]


def sniff_file_format(head: bytes) -> str:
    """csv or jsonl, from the first bytes; ImportFileRejected for anything else."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise ImportFileRejected(f"This is not a CSV or JSONL file: it is {what}.")
    if b"\x00" in head:
        raise ImportFileRejected("This is not a CSV or JSONL text file (it contains binary data).")
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        raise ImportFileRejected("The file is empty.")
    if text.startswith(b"["):
        raise ImportFileRejected(
            "This is a JSON array; JSONL is expected: one JSON object per line."
        )
    return ImportJob.Format.JSONL if text.startswith(b"{") else ImportJob.Format.CSV


def _text_lines(binary: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of a UTF-8 stream, line by line, with a cap on line length."""
    max_line = settings.VITRINE_IMPORT_MAX_LINE_BYTES
    number = 0
    while True:
        raw = binary.readline(max_line + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line and not raw.endswith(b"\n"):
            raise ImportFileRejected(
                f"Line {number} is longer than {max_line // 1024} KiB; is this really a "
                "CSV or JSONL file?"
            )
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileRejected(
                f"Line {number} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                f"{exc.start + 1}). Save the file as UTF-8 (in Excel: 'CSV UTF-8')."
            ) from None
        yield number, text


def _csv_header(cells: list[str]) -> list[str]:
    header = [c.strip().lower() for c in cells]
    named = [h for h in header if h]
    duplicates = sorted({h for h in named if named.count(h) > 1})
    if duplicates:
        raise ImportFileRejected(f"The header repeats the column(s): {', '.join(duplicates)}.")
    if not ({"sku", "asin"} & set(named)) or not ({"name", "title"} & set(named)):
        found = ", ".join(named[:12]) or "nothing"
        raise ImportFileRejected(
            "The first line must be a header with at least the columns sku and name "
            f"(found: {found})."
        )
    return header


def _csv_records(binary: IO[bytes]) -> Iterator[Record | list[str]]:
    """Yields the header (a list) first, then a Record per non-blank row. The delimiter is
    the one of `,`, `;` (spreadsheets in many locales) or tab that splits out sku and name."""
    lines = (text for _, text in _text_lines(binary))
    first_line = next(lines, None)
    if first_line is None:
        raise ImportFileRejected("The file is empty.")
    delimiter = ","
    for candidate in (",", ";", "\t"):
        cells = {c.strip().lower() for c in next(csv.reader([first_line], delimiter=candidate))}
        if {"sku", "asin"} & cells and {"name", "title"} & cells:
            delimiter = candidate
            break
    reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)
    try:
        header = _csv_header(next(reader))
        yield header
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                yield Record(
                    line,
                    None,
                    f"the row has {len(cells)} cells but the header has {len(header)} "
                    f"columns (a {delimiter!r} inside a value that is not quoted?)",
                    cells,
                )
                continue
            data = {h: c for h, c in zip(header, cells, strict=False) if h}
            yield Record(line, data, cells=cells)
    except csv.Error as exc:
        raise ImportFileRejected(
            f"Line {reader.line_num}: this is not valid CSV ({exc})."
        ) from None


def _jsonl_records(binary: IO[bytes]) -> Iterator[Record]:
    for number, text in _text_lines(binary):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(number, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield Record(number, None, f"not a JSON object but {_json_type(value)}")
            continue
        yield Record(number, value)


def read_records(binary: IO[bytes], fmt: str) -> Iterator[Record]:
    """The rows of the file, streamed. Raises ImportFileRejected on what breaks the file."""
    if fmt == ImportJob.Format.CSV:
        records = _csv_records(binary)
        next(records)  # the header
        yield from records  # type: ignore[misc]
    else:
        yield from _jsonl_records(binary)


def csv_header(binary: IO[bytes]) -> list[str]:
    return next(_csv_records(binary))  # type: ignore[return-value]


def check_file(binary: IO[bytes]) -> tuple[str, int]:
    """The first pass: (format, number of rows), or ImportFileRejected. Rewinds the file."""
    max_bytes = settings.VITRINE_IMPORT_MAX_BYTES
    binary.seek(0, io.SEEK_END)
    size = binary.tell()
    if size > max_bytes:
        raise ImportFileRejected(
            f"The file is {size / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB."
        )
    binary.seek(0)
    fmt = sniff_file_format(binary.read(64 * 1024))
    binary.seek(0)
    max_rows = settings.VITRINE_IMPORT_MAX_ROWS
    rows = 0
    for _record in read_records(binary, fmt):
        rows += 1
        if rows > max_rows:
            raise ImportFileRejected(
                f"The file has more than {max_rows} rows; split it into smaller files."
            )
    if rows == 0:
        raise ImportFileRejected("The file has no rows to import.")
    binary.seek(0)
    return fmt, rows


# --- Validating a row ----------------------------------------------------------------------


class RowInvalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


@dataclass
class CleanRow:
    """A valid row: the product's values and its photo entries (not loaded yet)."""

    sku: str
    name: str
    description: str
    brand: str
    category: list[str] | None
    price: Decimal | None
    currency: str
    attributes: dict[str, Any]
    active: bool
    images: list[str] | None  # None: leave the product's photos as they are

    def product_fields(self) -> dict[str, Any]:
        """The product's own values, as `services.upsert_product` and `ProductInput` take them."""
        return {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "brand": self.brand,
            "price": self.price,
            "currency": self.currency,
            "attributes": self.attributes,
            "category": self.category,
            "active": self.active,
        }


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _text(value: Any, column: str, errors: list, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append((column, f"must be text, not {_json_type(value)}"))
        return ""
    value = value.strip()
    if "\x00" in value:
        errors.append((column, "contains a NUL character"))
    elif max_length and len(value) > max_length:
        errors.append((column, f"is {len(value)} characters long; the limit is {max_length}"))
    return value


def _category(value: Any, errors: list) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        names = value.split("/")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = value
    else:
        errors.append(
            ("category", f"must be a path like 'A/B/C' or a list of names, not {_json_type(value)}")
        )
        return None
    names = [n.strip() for n in names if n and n.strip()]
    if any(len(n) > 200 or "\x00" in n for n in names):
        errors.append(("category", "a category name is longer than 200 characters"))
    return names or None


def _price(value: Any, errors: list) -> Decimal | None:
    if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
        errors.append(("price", f"must be a number, not {_json_type(value)}"))
        return None
    try:
        price = services.parse_price(value.strip() if isinstance(value, str) else value)
    except ValidationError as exc:
        errors.append(("price", exc.message_dict["price"][0]))
        return None
    if price is not None and price >= Decimal("1e10"):
        errors.append(("price", f"is too large: {value!r}"))
        return None
    return price


def _currency(value: Any, errors: list) -> str:
    text = _text(value, "currency", errors)
    if not text:
        return "USD"
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        errors.append(("currency", f"must be a 3-letter code like USD or EUR, not {text!r}"))
    return text.upper()


def _attributes(value: Any, errors: list, *, from_text: bool) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if from_text and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            errors.append(("attributes", f"is not valid JSON ({exc.msg})"))
            return {}
    if not isinstance(value, dict):
        errors.append(
            ("attributes", f"must be a JSON object of name -> value, not {_json_type(value)}")
        )
        return {}
    return value


def _images(value: Any, errors: list, *, from_text: bool) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        entries = value.split("|") if from_text else [value]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        entries = value
    else:
        errors.append(("images", f"must be a list of file names or URLs, not {_json_type(value)}"))
        return None
    entries = [e.strip() for e in entries if e.strip()]
    return entries or None


def _active(value: Any, errors: list) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    errors.append(("active", f"must be true or false, not {value!r}"))
    return True


def clean_row(data: Mapping[str, Any], *, from_text: bool) -> CleanRow:
    """Validate one row (a CSV row as text, or a JSON object). RowInvalid lists every bad
    field with its reason; nothing is written here."""
    data = dict(data)
    data.pop(REPORT_COLUMN, None)
    for alias, name in ESCI_ALIASES.items():
        if alias in data and name not in data:
            data[name] = data.pop(alias)
    bullets = data.pop("bullet_points", None)
    errors: list[tuple[str, str]] = []
    sku_value = data.get("sku")
    if isinstance(sku_value, int) and not isinstance(sku_value, bool):
        sku_value = str(sku_value)  # numeric ids in JSON
    sku = _text(sku_value, "sku", errors, max_length=64)
    if not sku and not any(f == "sku" for f, _ in errors):
        errors.append(("sku", "is required"))
    elif "/" in sku:
        errors.append(("sku", "must not contain '/'"))
    name = _text(data.get("name"), "name", errors, max_length=500)
    if not name and not any(f == "name" for f, _ in errors):
        errors.append(("name", "is required"))
    description = _text(data.get("description"), "description", errors)
    if isinstance(bullets, str) and bullets.strip():
        description = f"{description}\n\n{bullets.strip()}".strip()
    row = CleanRow(
        sku=sku,
        name=name,
        description=description,
        brand=_text(data.get("brand"), "brand", errors, max_length=200),
        category=_category(data.get("category"), errors),
        price=_price(data.get("price"), errors),
        currency=_currency(data.get("currency"), errors),
        attributes=_attributes(data.get("attributes"), errors, from_text=from_text),
        active=_active(data.get("active"), errors),
        images=_images(data.get("images"), errors, from_text=from_text),
    )
    extras = {
        k: v
        for k, v in data.items()
        if k and k not in COLUMNS and v is not None and v != "" and k not in row.attributes
    }
    if extras:
        row.attributes = {**extras, **row.attributes}
    if errors:
        raise RowInvalid(errors)
    return row


def extra_columns(data: Mapping[str, Any]) -> set[str]:
    known = set(COLUMNS) | set(ESCI_ALIASES) | {"bullet_points", REPORT_COLUMN, ""}
    return {k for k in data if k not in known}


# --- Photos --------------------------------------------------------------------------------


class PhotoUnavailable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _unsafe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    drive = re.match(r"[A-Za-z]:", name) is not None  # C:\\... written on Windows
    return path.is_absolute() or ".." in path.parts or drive


def open_photo_zip(fileobj: IO[bytes]) -> zipfile.ZipFile:
    """The photos zip, checked as a whole: a real zip, no unsafe paths (zip slip), not too
    many entries, not more uncompressed bytes than allowed (zip bomb)."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileRejected("The photos file is not a zip archive.") from None
    infos = archive.infolist()
    if len(infos) > settings.VITRINE_IMPORT_MAX_ZIP_ENTRIES:
        raise ImportFileRejected(
            f"The photos zip has {len(infos)} entries; the limit is "
            f"{settings.VITRINE_IMPORT_MAX_ZIP_ENTRIES}."
        )
    for info in infos:
        if _unsafe_member(info.filename):
            raise ImportFileRejected(
                f"The photos zip contains an unsafe path {info.filename!r} (absolute or with "
                "'..'); it was refused as a whole."
            )
    unpacked = sum(info.file_size for info in infos)
    limit = settings.VITRINE_IMPORT_MAX_UNZIPPED_BYTES
    if unpacked > limit:
        raise ImportFileRejected(
            f"The photos zip would unpack to {unpacked / 2**30:.1f} GiB; the limit is "
            f"{limit / 2**30:.1f} GiB (a zip bomb?)."
        )
    return archive


class PhotoSource:
    """Where non-URL image entries are read from: the uploaded zip and/or a local folder."""

    def __init__(self, *, archive: zipfile.ZipFile | None = None, folder: Path | None = None):
        self.archive = archive
        self.folder = folder.resolve() if folder else None
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.by_basename: dict[str, list[zipfile.ZipInfo]] = {}
        if archive is not None:
            for info in archive.infolist():
                name = info.filename.replace("\\", "/")
                if info.is_dir() or name.startswith("__MACOSX/"):
                    continue
                self.members[name.removeprefix("./")] = info
                self.by_basename.setdefault(name.rsplit("/", 1)[-1], []).append(info)

    def read(self, entry: str) -> bytes:
        limit = settings.VITRINE_MAX_PHOTO_BYTES
        if self.archive is not None:
            key = entry.replace("\\", "/").removeprefix("./")
            info = self.members.get(key)
            if info is None and len(self.by_basename.get(key, [])) == 1:
                info = self.by_basename[key][0]
            if info is not None:
                if info.file_size > limit:
                    raise PhotoUnavailable(
                        f"is {info.file_size // 1024} KiB; the limit is {limit // 1024} KiB"
                    )
                try:
                    return self.archive.read(info)
                except (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError) as exc:
                    raise PhotoUnavailable(f"cannot be read from the zip ({exc})") from None
                except NotImplementedError:
                    raise PhotoUnavailable("uses a compression method we cannot read") from None
        if self.folder is not None:
            if _unsafe_member(entry):  # lexical: resolving each path costs a stat per part
                raise PhotoUnavailable("is outside the images folder")
            path = self.folder / entry
            if not path.is_file():
                raise PhotoUnavailable(f"is not in the images folder {self.folder}")
            if path.stat().st_size > limit:
                raise PhotoUnavailable(
                    f"is {path.stat().st_size // 1024} KiB; the limit is {limit // 1024} KiB"
                )
            return path.read_bytes()
        if self.archive is not None:
            raise PhotoUnavailable("is not in the uploaded zip")
        raise PhotoUnavailable("is not a URL, and no zip of photos was uploaded")


def is_url(entry: str) -> bool:
    return entry.lower().startswith(("http://", "https://"))


def _photo_from_bytes(content: bytes, *, entry: str, source_url: str) -> services.PhotoInput:
    """Check that the bytes are a photo we accept (size, type, pixels, decodable). JPEGs are
    decoded at a reduced scale (enough to prove they decode; several run at once), and the
    stored size is the upright full size, as `services.attach_image` records it."""
    try:
        open_photo(content, max_side=CHECK_SIDE)
        ext = IMAGE_EXTENSIONS.get(sniff_format(content), "jpg")
        with Image.open(io.BytesIO(content)) as probe:
            width, height = probe.size
            if probe.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8):  # quarter turns
                width, height = height, width
    except PhotoRejected as exc:
        raise PhotoUnavailable(exc.reason) from None
    except Exception as exc:  # open_photo accepted it; the EXIF block itself is broken
        raise PhotoUnavailable(f"has unreadable metadata ({exc.__class__.__name__})") from None
    stem = entry.rsplit("/", 1)[-1].split("?", 1)[0].rsplit(".", 1)[0][:80] or "photo"
    return services.PhotoInput(
        checksum=hashlib.sha256(content).hexdigest(),
        filename=f"{stem}.{ext}",
        content=content,
        width=width,
        height=height,
        source_url=source_url,
    )


def _fetch_photo(url: str) -> services.PhotoInput:
    try:
        content = fetch_image_bytes(url)
    except FetchRejected as exc:
        raise PhotoUnavailable(exc.reason) from None
    return _photo_from_bytes(content, entry=url, source_url=url)


class _UnreachableHosts:
    """Image hosts that could not be resolved or connected to several times in a row during
    this run: the rest of their URLs are skipped with the same reason instead of each waiting
    for DNS or a connect timeout (thousands of rows on one CDN, or no network at all)."""

    LIMIT = 5
    SIGNS = ("cannot resolve host", "could not download the image")

    def __init__(self):
        self.failures: dict[str, int] = {}
        self.reasons: dict[str, str] = {}
        self.lock = threading.Lock()

    def fetch(self, url: str) -> services.PhotoInput:
        host = (urlsplit(url).hostname or "").lower()
        with self.lock:
            if self.failures.get(host, 0) >= self.LIMIT:
                raise PhotoUnavailable(f"{self.reasons[host]} (host unreachable; not retried)")
        try:
            photo = _fetch_photo(url)
        except PhotoUnavailable as exc:
            if exc.reason.startswith(self.SIGNS):
                with self.lock:
                    self.failures[host] = self.failures.get(host, 0) + 1
                    self.reasons[host] = exc.reason
            raise
        with self.lock:
            self.failures.pop(host, None)
        return photo


# --- Running a job -------------------------------------------------------------------------


@dataclass
class _Pending:
    """A valid row whose photos are being loaded."""

    record: Record
    row: CleanRow
    photos: list[Future | services.PhotoInput] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)


@dataclass
class _BatchReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    issues: list[ImportIssue] = field(default_factory=list)


def _photo_count(record: Record) -> int:
    value = (record.data or {}).get("images", (record.data or {}).get("image"))
    if isinstance(value, list):
        return len(value)
    if isinstance(value, str) and value.strip():
        return value.count("|") + 1
    return 0


def _sku_of(record: Record) -> str:
    data = record.data or {}
    value = data.get("sku", data.get("asin", ""))
    return str(value if value is not None else "")[:200]


class _Run:
    """One claimed run of a job (`attempt`): reads batches and commits them."""

    def __init__(self, job: ImportJob, attempt: int, photos: PhotoSource, pool: ThreadPoolExecutor):
        self.job = job
        self.attempt = attempt
        self.photos = photos
        self.pool = pool
        self.categories: dict = {}
        self.extra_seen: set[str] = set()
        self.hosts = _UnreachableHosts()
        self.from_text = job.format == ImportJob.Format.CSV

    def batches(self, records: Iterable[Record]) -> Iterator[list[Record]]:
        """Rows in commit-sized batches: at most VITRINE_IMPORT_BATCH_SIZE rows and about
        VITRINE_IMPORT_BATCH_PHOTOS photos (their bytes are held until the commit)."""
        size = max(1, settings.VITRINE_IMPORT_BATCH_SIZE)
        max_photos = max(1, settings.VITRINE_IMPORT_BATCH_PHOTOS)
        batch: list[Record] = []
        skus: set[str] = set()
        photos = 0
        for record in records:
            if record.line <= self.job.resume_line:
                continue
            sku = _sku_of(record).strip()
            if batch and (len(batch) >= size or photos >= max_photos or (sku and sku in skus)):
                yield batch  # a repeated SKU starts a new batch: rows apply in file order
                batch, skus, photos = [], set(), 0
            batch.append(record)
            skus.add(sku)
            photos += _photo_count(record)
        if batch:
            yield batch

    def _issue(self, kind: str, record: Record, message: str, column: str = "", sku=None):
        return ImportIssue(
            job=self.job,
            kind=kind,
            line=record.line,
            sku=(sku if sku is not None else _sku_of(record))[:200],
            field=column[:100],
            message=message,
        )

    def _prepare(self, batch: list[Record], report: _BatchReport) -> list[_Pending]:
        pending: list[_Pending] = []
        for record in batch:
            if record.data is None:
                report.failed += 1
                report.issues.append(self._issue("error", record, f"the line is {record.error}"))
                continue
            new_extras = extra_columns(record.data) - self.extra_seen
            if new_extras and self.job.format == ImportJob.Format.CSV and self.job.resume_line:
                self.extra_seen |= new_extras  # the header's warning was committed already
            elif new_extras:
                self.extra_seen |= new_extras
                report.issues.append(
                    self._issue(
                        "warning",
                        record if self.job.format == ImportJob.Format.JSONL else Record(1, {}),
                        "column(s) not in the import format were kept as attributes: "
                        + ", ".join(sorted(new_extras)),
                        sku="" if self.job.format == ImportJob.Format.CSV else None,
                    )
                )
            try:
                row = clean_row(record.data, from_text=self.from_text)
            except RowInvalid as exc:
                report.failed += 1
                report.issues += [self._issue("error", record, m, f) for f, m in exc.errors]
                continue
            pending.append(_Pending(record, row))
        self._load_photos(pending, report)
        return pending

    def _load_photos(self, pending: list[_Pending], report: _BatchReport) -> None:
        wanted = [p for p in pending if p.row.images]
        if not wanted:
            return
        known: dict[str, dict[str, str]] = {}  # sku -> {checksum or url: checksum}
        products = Product.objects.filter(sku__in=[p.row.sku for p in wanted])
        rows = products.values_list("sku", "images__checksum", "images__source_url")
        for sku, checksum, url in rows:
            if checksum:
                known.setdefault(sku, {})[checksum] = checksum
                if url:
                    known[sku][url] = checksum
        limit = settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT
        for item in wanted:
            entries = item.row.images or []
            if len(entries) > limit:
                report.issues.append(
                    self._issue(
                        "warning",
                        item.record,
                        f"{len(entries)} photos listed; only the first {limit} were imported",
                        "images",
                    )
                )
                entries = entries[:limit]
            have = known.get(item.row.sku, {})
            for entry in entries:
                item.entries.append(entry)
                if is_url(entry):
                    if entry in have:
                        item.photos.append(services.PhotoInput(checksum=have[entry]))
                    else:
                        item.photos.append(self.pool.submit(self.hosts.fetch, entry))
                    continue
                if "://" in entry or entry.lower().startswith("data:"):
                    item.photos.append(PhotoUnavailable("only http(s) URLs can be fetched"))
                    continue
                try:
                    content = self.photos.read(entry)
                except PhotoUnavailable as exc:
                    item.photos.append(exc)
                    continue
                checksum = hashlib.sha256(content).hexdigest()
                if checksum in have:
                    item.photos.append(services.PhotoInput(checksum=checksum))
                else:
                    item.photos.append(
                        self.pool.submit(_photo_from_bytes, content, entry=entry, source_url="")
                    )

    def _product_input(self, item: _Pending, report: _BatchReport) -> services.ProductInput:
        row = item.row
        photos: list[services.PhotoInput] | None = None
        complete = True
        if row.images:
            photos = []
            complete = len(row.images) <= settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT
            problems: list[str] = []
            for entry, result in zip(item.entries, item.photos, strict=True):
                try:
                    if isinstance(result, Future):
                        result = result.result()
                    if isinstance(result, Exception):
                        raise result
                    photos.append(result)
                except PhotoUnavailable as exc:
                    problems.append(f"photo {entry!r} {_reason(exc.reason)}")
            outcome = "imported without it" if photos else "imported text-only"
            for problem in problems:
                complete = False
                report.issues.append(
                    self._issue("warning", item.record, f"{problem}; {outcome}", "images", row.sku)
                )
        return services.ProductInput(
            **row.product_fields(),
            photos=photos if photos or complete else None,
            replace_photos=complete,
        )

    def _write(self, items: list[tuple[_Pending, services.ProductInput]], report: _BatchReport):
        def count(outcomes):
            for _, outcome in outcomes:
                setattr(report, outcome.value, getattr(report, outcome.value) + 1)

        try:
            with transaction.atomic():
                saved = services.save_products(
                    items=[i for _, i in items], categories=self.categories
                )
            count(saved)
            return
        except (ValidationError, DatabaseError, ValueError):
            self.categories.clear()  # may hold rows of the rolled-back savepoint
        for pending, item in items:  # one by one, so that only the culprit fails
            try:
                with transaction.atomic():
                    count(services.save_products(items=[item], categories=self.categories))
            except ValidationError as exc:
                self.categories.clear()
                report.failed += 1
                for column, messages in exc.message_dict.items():
                    report.issues += [
                        self._issue("error", pending.record, m, column, sku=item.sku)
                        for m in messages
                    ]
            except (DatabaseError, ValueError) as exc:
                self.categories.clear()
                report.failed += 1
                report.issues.append(
                    self._issue("error", pending.record, f"could not be saved: {exc}", sku=item.sku)
                )

    def commit(self, batch: list[Record]) -> ImportJob:
        report = _BatchReport()
        pending = self._prepare(batch, report)
        items = [(p, self._product_input(p, report)) for p in pending]
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=self.job.pk)
            if job.attempts != self.attempt or job.status != ImportJob.Status.RUNNING:
                raise _LostClaim
            if items:
                self._write(items, report)
            ImportIssue.objects.bulk_create(report.issues)
            job.processed += len(batch)
            job.created += report.created
            job.updated += report.updated
            job.unchanged += report.unchanged
            job.failed += report.failed
            job.warned += sum(1 for i in report.issues if i.kind == ImportIssue.Kind.WARNING)
            job.resume_line = batch[-1].line
            job.heartbeat_at = timezone.now()
            job.save(
                update_fields=[
                    "processed",
                    "created",
                    "updated",
                    "unchanged",
                    "failed",
                    "warned",
                    "resume_line",
                    "heartbeat_at",
                ]
            )
        self.job = job
        return job


def _reason(reason: str) -> str:
    """Photo reasons read as a predicate after "photo 'x.jpg'"."""
    first = reason.split(" ", 1)[0]
    if first in {"is", "cannot", "uses"}:
        return reason
    return f"was rejected: {reason}"


def _claim(job_id: int) -> int | None:
    """Mark the job running for this run; None when it is finished or another run is alive."""
    stall = timedelta(seconds=settings.VITRINE_IMPORT_STALL_S)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        now = timezone.now()
        if (
            job.status == ImportJob.Status.RUNNING
            and job.heartbeat_at
            and (job.heartbeat_at > now - stall)
        ):
            return None
        job.status = ImportJob.Status.RUNNING
        job.attempts += 1
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.save(update_fields=["status", "attempts", "heartbeat_at", "started_at"])
        return job.attempts


def _finish(job_id: int, attempt: int, *, status: str, message: str = "") -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.attempts == attempt:
            job.status = status
            job.message = message
            job.finished_at = timezone.now()
            job.heartbeat_at = job.finished_at
            job.save(update_fields=["status", "message", "finished_at", "heartbeat_at"])
        return job


@contextmanager
def open_source(job: ImportJob) -> Iterator[IO[bytes]]:
    """The job's data file as a binary stream (uploaded, or a local path for the CLI)."""
    if job.source_path:
        with open(job.source_path, "rb") as handle:
            yield handle
    elif job.file:
        if not job.file.storage.exists(job.file.name):
            raise ImportFileRejected(
                "The uploaded file is no longer kept (finished imports keep their files for "
                f"{settings.VITRINE_IMPORT_FILE_RETENTION_DAYS} days); upload it again."
            )
        with job.file.open("rb") as handle:
            yield handle
    else:
        raise ImportFileRejected("The job has no file.")


@contextmanager
def _open_photos(job: ImportJob, stack: ExitStack) -> Iterator[PhotoSource]:
    archive = None
    folder = None
    if job.images:
        size = job.images.size
        if size > settings.VITRINE_IMPORT_MAX_ZIP_BYTES:
            raise ImportFileRejected(
                f"The photos zip is {size / 2**20:.0f} MiB; the limit is "
                f"{settings.VITRINE_IMPORT_MAX_ZIP_BYTES / 2**20:.0f} MiB."
            )
        archive = stack.enter_context(open_photo_zip(stack.enter_context(job.images.open("rb"))))
    elif job.images_path:
        path = Path(job.images_path)
        if path.is_dir():
            folder = path
        elif path.is_file():
            archive = stack.enter_context(open_photo_zip(stack.enter_context(open(path, "rb"))))
        else:
            raise ImportFileRejected(f"The images folder {job.images_path} does not exist.")
    yield PhotoSource(archive=archive, folder=folder)


def run_import(*, job_id: int, on_progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run (or continue) an import job to the end. Safe to call twice: a job that is finished,
    or running in a live process, is left alone."""
    attempt = _claim(job_id)
    if attempt is None:
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.get(pk=job_id)
    pause = settings.VITRINE_IMPORT_BATCH_PAUSE_S
    try:
        with ExitStack() as stack:
            source = stack.enter_context(open_source(job))
            photos = stack.enter_context(_open_photos(job, stack))
            fmt, total = check_file(source)
            ImportJob.objects.filter(pk=job.pk).update(format=fmt, total=total)
            job.format, job.total = fmt, total
            if on_progress:
                on_progress(job)
            pool = stack.enter_context(
                ThreadPoolExecutor(max(1, settings.VITRINE_IMPORT_FETCH_CONCURRENCY))
            )
            run = _Run(job, attempt, photos, pool)
            for batch in run.batches(read_records(source, fmt)):
                job = run.commit(batch)
                if on_progress:
                    on_progress(job)
                if pause:
                    time.sleep(pause)
    except ImportFileRejected as exc:
        return _finish(job_id, attempt, status=ImportJob.Status.FAILED, message=exc.message)
    except _LostClaim:
        logger.warning("import %s was taken over by another run; this one stops", job_id)
        return ImportJob.objects.get(pk=job_id)
    except Exception as exc:
        logger.exception("import %s stopped by an unexpected error", job_id)
        _finish(
            job_id,
            attempt,
            status=ImportJob.Status.FAILED,
            message=f"Stopped by an unexpected error ({exc.__class__.__name__}: {exc}). "
            "Rows committed so far are kept; run the import again to continue.",
        )
        raise
    return _finish(job_id, attempt, status=ImportJob.Status.DONE)


# --- Starting jobs -------------------------------------------------------------------------


class UploadRejected(ValueError):
    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.message = message
        self.too_large = too_large


def check_uploads(*, file: UploadedFile | None, images: UploadedFile | None) -> None:
    """Cheap checks at upload time (sizes); the job checks the contents."""
    if file is None:
        raise UploadRejected("Choose a CSV or JSONL file.")
    if file.size > settings.VITRINE_IMPORT_MAX_BYTES:
        raise UploadRejected(
            f"The file is {file.size / 2**20:.1f} MiB; the limit is "
            f"{settings.VITRINE_IMPORT_MAX_BYTES / 2**20:.0f} MiB.",
            too_large=True,
        )
    if images is not None and images.size > settings.VITRINE_IMPORT_MAX_ZIP_BYTES:
        raise UploadRejected(
            f"The photos zip is {images.size / 2**20:.0f} MiB; the limit is "
            f"{settings.VITRINE_IMPORT_MAX_ZIP_BYTES / 2**20:.0f} MiB.",
            too_large=True,
        )


def enqueue_import(job: ImportJob) -> None:
    """Queue the job for an import worker once the transaction commits. A broker outage does
    not fail the upload: the job stays pending, and the next import worker that starts (or
    the admin's "Resume" action) queues it again."""
    from catalog.tasks import run_import as task

    job_id = job.pk

    def send() -> None:
        try:
            task.delay(job_id)
        except Exception:
            logger.warning("could not queue import %s; it stays pending", job_id, exc_info=True)

    transaction.on_commit(send)


@transaction.atomic
def start_import(
    *, file: UploadedFile, images: UploadedFile | None = None, created_by=None
) -> ImportJob:
    """Store an uploaded file (and photos zip) as a pending job; a worker runs it."""
    check_uploads(file=file, images=images)
    job = ImportJob(created_by=created_by if created_by and created_by.pk else None)
    job.file.save(file.name or "catalog.csv", file, save=False)
    if images is not None:
        job.images.save(images.name or "photos.zip", images, save=False)
    job.save()
    enqueue_import(job)
    return job


def retry_import(*, job_id: int) -> None:
    """Queue a job again (after a failure, or when its worker is gone): it continues after
    its last committed batch. A run still alive notices at its next commit and stops."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status == ImportJob.Status.DONE:
            return
        job.status = ImportJob.Status.PENDING
        job.message = ""
        job.finished_at = None
        job.heartbeat_at = None
        job.save(update_fields=["status", "message", "finished_at", "heartbeat_at"])
        enqueue_import(job)


def delete_import_files(job: ImportJob) -> int:
    """Remove the job's stored uploads (data file, photos zip) from storage; the job keeps
    their names, so its report still says what was imported. Returns how many were there."""
    removed = 0
    for upload in (job.file, job.images):
        if upload and upload.storage.exists(upload.name):
            upload.storage.delete(upload.name)
            removed += 1
    return removed


def purge_import_files(*, older_than_days: int) -> int:
    """Remove the uploads of imports that finished more than `older_than_days` ago: a
    supplier's file has no use once its rows landed or were reported (the report lives in
    the database), and should not sit on disk forever. Returns the files removed."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    finished = ImportJob.objects.filter(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED], finished_at__lt=cutoff
    ).exclude(file="", images="")
    return sum(delete_import_files(job) for job in finished.iterator())


def resume_stalled_imports() -> list[int]:
    """Jobs whose run died (no heartbeat for VITRINE_IMPORT_STALL_S) or whose task message was
    lost go back to pending and are enqueued again; they continue after `resume_line`."""
    cutoff = timezone.now() - timedelta(seconds=settings.VITRINE_IMPORT_STALL_S)
    with transaction.atomic():
        stalled = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=[ImportJob.Status.RUNNING, ImportJob.Status.PENDING])
            .exclude(heartbeat_at__gt=cutoff)
            .filter(created_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        if stalled:
            ImportJob.objects.filter(pk__in=stalled).update(status=ImportJob.Status.PENDING)
            for job in ImportJob.objects.filter(pk__in=stalled):
                enqueue_import(job)
    return stalled


# --- The failed-rows report ----------------------------------------------------------------


def error_lines(job: ImportJob) -> dict[int, str]:
    """line -> every error of that line, as one sentence."""
    lines: dict[int, list[str]] = {}
    for line, column, message in job.issues.filter(kind=ImportIssue.Kind.ERROR).values_list(
        "line", "field", "message"
    ):
        lines.setdefault(line, []).append(f"{column}: {message}" if column else message)
    return {line: f"line {line}: " + "; ".join(messages) for line, messages in lines.items()}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _to_cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "category" and isinstance(value, list):
        return "/".join(str(v) for v in value)
    if column == "images" and isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def failed_rows_csv(job: ImportJob) -> Iterator[str]:
    """The rows that failed, as CSV lines ready to fix and re-upload: the original columns
    (JSONL rows are turned into the CSV format) plus `import_error` saying what to fix."""
    errors = error_lines(job)
    writer = csv.writer(_Echo())
    with open_source(job) as source:
        if job.format == ImportJob.Format.CSV:
            header = csv_header(source)
            source.seek(0)
            keep = [i for i, h in enumerate(header) if h != REPORT_COLUMN]
            yield writer.writerow([header[i] for i in keep] + [REPORT_COLUMN])
            for record in read_records(source, job.format):
                if record.line in errors:
                    cells = list(record.cells or [])
                    cells += [""] * (len(header) - len(cells))
                    yield writer.writerow(
                        [cells[i] for i in keep if i < len(cells)] + [errors[record.line]]
                    )
            return
        yield writer.writerow([*COLUMNS, REPORT_COLUMN])
        for record in read_records(source, job.format):
            if record.line not in errors:
                continue
            if record.data is None:
                yield writer.writerow([""] * len(COLUMNS) + [errors[record.line]])
                continue
            data = dict(record.data)
            for alias, name in ESCI_ALIASES.items():
                if alias in data and name not in data:
                    data[name] = data.pop(alias)
            extras = {k: data[k] for k in extra_columns(data) if k in data}
            if extras and isinstance(data.get("attributes") or {}, dict):
                data["attributes"] = {**extras, **(data.get("attributes") or {})}
            yield writer.writerow(
                [_to_cell(c, data.get(c)) for c in COLUMNS] + [errors[record.line]]
            )


# --- Photos for one product (API) ----------------------------------------------------------


def fetch_photos_for_product(*, product_id: int, urls: list[str]) -> list[str]:
    """Download the photos of a product given by URL (API writes) and make them its photos.
    Returns the reasons of the photos that could not be used (they are logged, too)."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return []
    have: dict[str, str] = {}  # a URL the product's photo came from, or is served at
    for image in product.images.all():
        have[image.file.url] = image.checksum
        if image.source_url:
            have[image.source_url] = image.checksum
    photos: list[services.PhotoInput] = []
    problems: list[str] = []
    limit = settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT
    for url in urls[:limit]:
        known = have.get(url) or have.get(urlsplit(url).path)
        try:
            photos.append(services.PhotoInput(checksum=known) if known else _fetch_photo(url))
        except PhotoUnavailable as exc:
            problems.append(f"photo {url!r} {_reason(exc.reason)}")
    item = services.ProductInput(
        sku=product.sku,
        name=product.name,
        description=product.description,
        brand=product.brand,
        price=product.price,
        currency=product.currency,
        attributes=product.attributes,
        category=_category_names(product),
        active=product.active,
        photos=photos,
        replace_photos=not problems and len(urls) <= limit,
    )
    services.save_products(items=[item])
    for problem in problems:
        logger.warning("product %s: %s", product.sku, problem)
    return problems


def _category_names(product: Product) -> list[str] | None:
    if product.category_id is None:
        return None
    return product.category.full_name.split(" / ")


def save_row(*, row: CleanRow) -> tuple[Product, bool]:
    """Write one validated row (API): the product at once; its photo URLs are downloaded by
    a worker after the commit. Returns (product, created)."""
    product, created = services.upsert_product(**row.product_fields())
    if row.images is not None:
        product_id, urls = product.pk, list(row.images)
        transaction.on_commit(lambda: _enqueue_photo_fetch(product_id, urls))
    return product, created


def _enqueue_photo_fetch(product_id: int, urls: list[str]) -> None:
    from catalog.tasks import fetch_product_photos

    try:
        fetch_product_photos.delay(product_id, urls)
    except Exception:  # the product is saved; its photos can be sent again
        logger.warning("could not enqueue the photos of product %s", product_id, exc_info=True)
