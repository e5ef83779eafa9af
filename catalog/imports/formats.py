"""Reading an import file: CSV or JSON Lines, streamed, never held in memory.

What can fail the whole file is found here, before anything is written: not text, not UTF-8,
a line too long to be a row, no `sku`/`name` header, too many rows (`check_file`, the first
pass). Rows come out as `Record`s with their line number; a line that cannot be read as a
row (broken JSON, too many cells) is a Record with an error, and fails alone.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings

from catalog.models import ImportJob

# A line longer than this is no catalog row (a binary file, or a whole JSON dump on one
# line): the file is refused rather than read into memory. A product row with a long
# description and a dozen attributes is a few KiB.
MAX_LINE_BYTES = 1024 * 1024
SNIFF_BYTES = 64 * 1024  # what `sniff_file_format` reads to tell CSV, JSONL and the rest apart


class ImportFileRejected(Exception):
    """The file (or the photos zip) as a whole cannot be imported; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def json_type(value: Any) -> str:
    """How a JSON value is named in a reason: "must be text, not a number"."""
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
    max_line = MAX_LINE_BYTES
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
            yield Record(number, None, f"not a JSON object but {json_type(value)}")
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
    fmt = sniff_file_format(binary.read(SNIFF_BYTES))
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
