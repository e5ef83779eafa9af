"""Filters of the admin's "Search insights" page: rates as percentages, latencies in ms, and
"–" for a number that cannot be computed (no searches, no clicks)."""

from __future__ import annotations

from django import template

register = template.Library()

NONE = "–"


@register.filter
def percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


@register.filter
def ms(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f} ms"


@register.filter
def position(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"
