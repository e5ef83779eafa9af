"""The import job runner: reads a job's file in batches and commits each batch, with the job's
counters, its report rows and `resume_line`, in one transaction.

The file is streamed twice: `formats.check_file` first (what can fail the whole file fails
before anything is written), then the rows. Each row is validated on its own
(`rows.clean_row`: a bad row fails alone, with its line, column and reason), its photos are
loaded (`photos.PhotoLoader`: a bad photo is a warning and the product lands without it),
and the batch is written through `catalog.services.save_products` (bulk). A batch that the
database refuses is retried row by row so that only the culprit fails. A run that dies is
continued from the last committed batch; re-running a whole file is harmless (upsert by SKU).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from catalog import services
from catalog.imports.formats import (
    ImportFileRejected,
    Record,
    check_file,
    open_source,
    read_records,
)
from catalog.imports.photos import (
    LoadingPhoto,
    PhotoLoader,
    PhotoUnavailable,
    describe,
    photo_loader,
)
from catalog.imports.rows import CleanRow, RowInvalid, clean_row, extra_columns
from catalog.models import ImportIssue, ImportJob, Product

logger = logging.getLogger(__name__)


class _LostClaim(Exception):
    """Another run took the job over (this one was presumed dead); stop quietly."""


@dataclass
class _Pending:
    """A valid row whose photos are being loaded."""

    record: Record
    row: CleanRow
    photos: list[LoadingPhoto] = field(default_factory=list)
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

    def __init__(self, job: ImportJob, attempt: int, photos: PhotoLoader):
        self.job = job
        self.attempt = attempt
        self.photos = photos
        self.categories: dict = {}
        self.extra_seen: set[str] = set()
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
                item.photos.append(self.photos.load(entry, known=have))

    def _product_input(self, item: _Pending, report: _BatchReport) -> services.ProductInput:
        row = item.row
        photos: list[services.PhotoInput] | None = None
        complete = True
        if row.images:
            photos = []
            complete = len(row.images) <= settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT
            problems: list[str] = []
            for entry, pending in zip(item.entries, item.photos, strict=True):
                try:
                    photos.append(PhotoLoader.result(pending))
                except PhotoUnavailable as exc:
                    problems.append(f"photo {entry!r} {describe(exc.reason)}")
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
            photos = stack.enter_context(photo_loader(job))
            fmt, total = check_file(source)
            ImportJob.objects.filter(pk=job.pk).update(format=fmt, total=total)
            job.format, job.total = fmt, total
            if on_progress:
                on_progress(job)
            run = _Run(job, attempt, photos)
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
