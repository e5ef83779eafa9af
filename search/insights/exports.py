"""The query table as CSV, for a spreadsheet. Shoppers type the queries, so a query that a
spreadsheet would read as a formula (=, +, -, @, or a tab or carriage return first) is
written with a leading apostrophe: shown as text, never run."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from search.insights.selectors import QueryRow

HEADER = (
    "query",
    "photo",
    "searches",
    "zero_result_searches",
    "zero_result_rate",
    "searches_with_click",
    "click_through_rate",
    "clicks",
    "mean_click_position",
    "p50_ms",
    "p95_ms",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def write_query_table_csv(*, rows: Iterable[QueryRow], out: TextIO) -> None:
    """Rates are fractions (0..1) and latencies milliseconds; an empty cell is a number that
    cannot be computed (no searches, no clicks)."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                spreadsheet_safe(row.label if row.photo else row.query),
                "yes" if row.photo else "no",
                row.searches,
                row.zero_result_searches,
                _number(row.zero_result_rate, 4),
                row.searches_with_click,
                _number(row.click_through_rate, 4),
                row.clicks,
                _number(row.mean_click_position, 2),
                _number(row.p50_ms, 1),
                _number(row.p95_ms, 1),
            )
        )
