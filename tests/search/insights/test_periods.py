"""Periods and table parameters: what each period covers, and a clear error naming the
parameter to fix for anything else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from search.insights.periods import (
    MAX_CUSTOM_DAYS,
    InvalidInsightsParams,
    parse_limit,
    parse_order,
    parse_period,
)

NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)


def test_seven_and_thirty_days_are_utc_days_with_today_included():
    week = parse_period(period="7d", now=NOW)
    assert (week.first_day, week.last_day) == (date(2025, 3, 4), date(2025, 3, 10))
    assert not week.live
    assert len(parse_period(period="30d", now=NOW).days) == 30


def test_24_hours_is_the_live_window_ending_now():
    period = parse_period(period="24h", now=NOW)
    assert period.live and period.end == NOW and period.start == NOW - timedelta(hours=24)


def test_from_and_to_alone_make_a_custom_period_with_both_days_included():
    period = parse_period(date_from="2025-01-01", date_to="2025-01-31", now=NOW)
    assert period.key == "custom" and len(period.days) == 31
    assert parse_period(period="custom", date_from="2025-03-01", now=NOW).last_day == NOW.date()


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"period": "1y"}, "period"),
        ({"period": "7d", "date_from": "2025-01-01"}, "period"),
        ({"period": "custom"}, "from"),
        ({"date_from": "yesterday"}, "from"),
        ({"date_from": "2025-01-01", "date_to": "2025-02-30"}, "to"),
        ({"date_from": "2025-03-05", "date_to": "2025-03-01"}, "from"),
        ({"date_from": "2025-03-01", "date_to": "2025-03-11"}, "to"),  # after today
        ({"date_from": "2020-01-01", "date_to": "2025-03-01"}, "from"),  # too long
    ],
)
def test_bad_periods_name_the_parameter_to_fix(kwargs, param):
    with pytest.raises(InvalidInsightsParams) as exc:
        parse_period(now=NOW, **kwargs)
    assert exc.value.param == param and str(exc.value)


def test_a_custom_period_may_reach_past_the_raw_events_retention():
    first = NOW.date() - timedelta(days=MAX_CUSTOM_DAYS - 1)
    assert len(parse_period(date_from=first.isoformat(), now=NOW).days) == MAX_CUSTOM_DAYS


def test_order_and_limit():
    assert parse_order(None) == "count" and parse_order("slow") == "slow"
    assert parse_limit(None) == 50 and parse_limit("10") == 10
    for bad in ("popular", "COUNT"):
        with pytest.raises(InvalidInsightsParams, match="count"):
            parse_order(bad)
    for bad in ("0", "501", "ten", "-1"):
        with pytest.raises(InvalidInsightsParams) as exc:
            parse_limit(bad)
        assert exc.value.param == "limit"
