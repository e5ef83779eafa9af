"""The failed-rows report: the rows of a job that failed, as a CSV ready to fix and upload
again (the original columns, JSONL rows turned into the CSV format, plus `import_error`
saying what to fix), and each failed line's errors as one sentence.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from catalog.imports.formats import csv_header, open_source, read_records
from catalog.imports.rows import COLUMNS, ESCI_ALIASES, REPORT_COLUMN, extra_columns
from catalog.models import ImportIssue, ImportJob


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
