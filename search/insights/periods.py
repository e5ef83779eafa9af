"""The period and table parameters the insights dashboard, its CSV and its JSON endpoints
share: parsed and checked here once, so a bad value gets the same clear 400 everywhere.

24 h reads the raw events of the last 24 hours (live); 7 d, 30 d and custom read the daily
rollups by UTC day, today included (the rollups of today and yesterday are recomputed every
minute)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

PERIODS = ("24h", "7d", "30d", "custom")
DEFAULT_PERIOD = "7d"
ORDERS = ("count", "zero", "ctr", "slow")
DEFAULT_ORDER = "count"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Rollups are kept forever, so a custom period may reach past the raw events' retention;
# the bound keeps the chart readable and the request cheap.
MAX_CUSTOM_DAYS = 731


class InvalidInsightsParams(ValueError):
    """A parameter the caller can fix; `param` names it (the API answers `{param: [msg]}`)."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Period:
    """What a dashboard or endpoint reads: the last 24 hours of raw events (`live`), or the
    daily rollups from `first_day` to `last_day`, both included (UTC days)."""

    key: str  # one of PERIODS
    start: datetime  # inclusive
    end: datetime  # exclusive
    first_day: date
    last_day: date
    live: bool

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]

    @property
    def label(self) -> str:
        if self.key == "24h":
            return "last 24 hours"
        if self.first_day == self.last_day:
            return f"{self.first_day.isoformat()} (UTC)"
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()} (UTC days)"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _parse_day(param: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInsightsParams(
            param, f"{value[:40]!r} is not a date: give it as YYYY-MM-DD (a UTC day)."
        ) from None


def parse_period(
    *,
    period: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    now: datetime | None = None,
) -> Period:
    """The period asked for. `from`/`to` (YYYY-MM-DD, both included) make a custom period;
    `to` defaults to today. Raises InvalidInsightsParams naming the parameter to fix."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    custom_dates = bool(date_from or date_to)
    key = (period or "").strip() or ("custom" if custom_dates else DEFAULT_PERIOD)
    if key not in PERIODS:
        raise InvalidInsightsParams("period", f"Give one of {', '.join(PERIODS)}, not {key!r}.")
    if custom_dates and key != "custom":
        raise InvalidInsightsParams(
            "period", "from/to make a custom period: leave period out or give period=custom."
        )
    if key == "24h":
        start = now - timedelta(hours=24)
        return Period(key, start, now, start.astimezone(UTC).date(), today, live=True)
    if key in ("7d", "30d"):
        first = today - timedelta(days=int(key[:-1]) - 1)
        return Period(key, _day_start(first), now, first, today, live=False)
    if not date_from:
        raise InvalidInsightsParams("from", "A custom period needs its first day (YYYY-MM-DD).")
    first = _parse_day("from", date_from)
    last = _parse_day("to", date_to) if date_to else today
    if last > today:
        raise InvalidInsightsParams(
            "to", f"{last.isoformat()} is after today ({today.isoformat()}, UTC)."
        )
    if first > last:
        raise InvalidInsightsParams(
            "from", f"The first day ({first.isoformat()}) is after the last ({last.isoformat()})."
        )
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise InvalidInsightsParams(
            "from", f"A custom period spans at most {MAX_CUSTOM_DAYS} days; choose a later day."
        )
    return Period(
        "custom", _day_start(first), _day_start(last + timedelta(days=1)), first, last, live=False
    )


def parse_order(value: str | None) -> str:
    order = (value or "").strip() or DEFAULT_ORDER
    if order not in ORDERS:
        raise InvalidInsightsParams("order", f"Give one of {', '.join(ORDERS)}, not {order!r}.")
    return order


def parse_limit(
    value: str | None, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT
) -> int:
    if value is None or not str(value).strip():
        return default
    try:
        limit = int(str(value).strip())
    except ValueError:
        raise InvalidInsightsParams(
            "limit", f"Give a whole number, not {str(value)[:40]!r}."
        ) from None
    if not 1 <= limit <= maximum:
        raise InvalidInsightsParams("limit", f"Give a number from 1 to {maximum}.")
    return limit


def period_from_params(params: Mapping[str, str], *, now: datetime | None = None) -> Period:
    """The period of a request's query string (`period`, `from`, `to`)."""
    return parse_period(
        period=params.get("period"),
        date_from=params.get("from"),
        date_to=params.get("to"),
        now=now,
    )
