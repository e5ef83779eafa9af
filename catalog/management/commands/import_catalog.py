"""`manage.py import_catalog PATH [--images DIR|ZIP]`: the bulk import, in this process."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.imports import report, runner
from catalog.models import ImportIssue, ImportJob

SHOWN = 50


class Command(BaseCommand):
    help = (
        "Import products from a CSV or JSONL file (upsert by SKU), in this process, with a "
        "progress bar. Photos named in the rows are read from --images (a folder or a zip) "
        "or downloaded when they are http(s) URLs. Exit status: 0 when every row was "
        "imported, 2 when some rows failed (they are written to --failed-rows), 1 when the "
        "file was rejected as a whole (nothing changed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the CSV or JSONL file")
        parser.add_argument(
            "--images", help="folder (or zip) that the rows' image paths are relative to"
        )
        parser.add_argument(
            "--failed-rows",
            help="where to write the failed rows as CSV (default: <file>-failed-rows.csv "
            "in the current folder)",
        )

    def handle(self, *args, path: str, images: str | None, failed_rows: str | None, **options):
        source = Path(path).expanduser().resolve()
        if not source.is_file():
            raise CommandError(f"{path}: no such file")
        images_path = ""
        if images:
            images_path = str(Path(images).expanduser().resolve())
            if not Path(images_path).exists():
                raise CommandError(f"{images}: no such folder or zip")
        job = ImportJob.objects.create(source_path=str(source), images_path=images_path)
        bar = tqdm(
            desc=source.name,
            unit="rows",
            disable=options["verbosity"] == 0 or None,  # None: off when not a terminal
            file=sys.stderr,
            dynamic_ncols=True,
        )

        def on_progress(current: ImportJob) -> None:
            if current.total is not None and bar.total != current.total:
                bar.total = current.total
                bar.refresh()
            bar.update(current.processed - bar.n)
            bar.set_postfix(
                created=current.created, updated=current.updated, failed=current.failed,
                refresh=False,
            )  # fmt: skip

        try:
            job = runner.run_import(job_id=job.pk, on_progress=on_progress)
        finally:
            bar.close()
        self._report(job)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"import #{job.pk} failed: {job.message}")
        if job.failed:
            out = Path(failed_rows or f"{source.stem}-failed-rows.csv")
            with open(out, "w", encoding="utf-8", newline="") as handle:
                handle.writelines(report.failed_rows_csv(job))
            self.stdout.write(f"Failed rows written to {out}: fix them and import that file.")
            sys.exit(2)

    def _report(self, job: ImportJob) -> None:
        self.stdout.write(
            f"Import #{job.pk} {job.status}: {job.processed} of {job.total or 0} rows — "
            f"{job.created} created, {job.updated} updated, {job.unchanged} unchanged, "
            f"{job.failed} failed, {job.warned} warnings."
        )
        for kind, title in ((ImportIssue.Kind.ERROR, "Errors"), (ImportIssue.Kind.WARNING,
                                                                 "Warnings")):  # fmt: skip
            issues = job.issues.filter(kind=kind)
            count = issues.count()
            if not count:
                continue
            style = self.style.ERROR if kind == ImportIssue.Kind.ERROR else self.style.WARNING
            self.stdout.write(style(f"{title}:"))
            for issue in issues[:SHOWN]:
                where = f"line {issue.line}" + (f" ({issue.sku})" if issue.sku else "")
                column = f"{issue.field}: " if issue.field else ""
                self.stdout.write(f"  {where}: {column}{issue.message}")
            if count > SHOWN:
                self.stdout.write(f"  … and {count - SHOWN} more")
