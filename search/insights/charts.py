"""Server-rendered SVG charts for the insights page: no CDN, no JavaScript, no inline styles
(colours are SVG presentation attributes, and classes the static insights.css may restyle),
so a Content-Security-Policy with style-src 'self' leaves them intact. Each bar carries a
<title>, which browsers show on hover and screen readers read."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.insights.selectors import SeriesPoint

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36  # room for the axes' labels
BAR_FILL = "#417690"  # the admin's own blue
ZERO_FILL = "#ba2121"  # zero-result searches, drawn over the bar's foot
AXIS_STROKE = "#999999"
TEXT_FILL = "#666666"


def _nice_ceiling(value: int) -> int:
    """The axis' top: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def _point_label(point: SeriesPoint, unit: str) -> str:
    return point.start.strftime("%Y-%m-%d %H:00 UTC" if unit == "hour" else "%Y-%m-%d")


def _tick_label(point: SeriesPoint, unit: str) -> str:
    return point.start.strftime("%H:00" if unit == "hour" else "%b %d")


def searches_chart(*, series: Sequence[SeriesPoint], unit: str = "day") -> SafeString:
    """Searches per day (or hour) as bars, zero-result searches in red at each bar's foot,
    with a labelled y axis (0, half, top) and a few dates along x."""
    total = sum(p.searches for p in series)
    top = _nice_ceiling(max((p.searches for p in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    what = "hour" if unit == "hour" else "day"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="insights-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="Searches per {what}: {total} in all">',
        f"<title>Searches per {what}</title>",
    ]
    for value in (0, top // 2, top) if top > 1 else (0, top):
        y = TOP + plot_h - plot_h * value / top
        parts.append(
            f'<line class="insights-grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y:.1f}" stroke="#e5e5e5" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="insights-axis-label" x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end" font-size="11" fill="{TEXT_FILL}">{value}</text>'
        )
    parts.append(
        f'<line class="insights-axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}" stroke="{AXIS_STROKE}" stroke-width="1"/>'
    )
    if not series or total == 0:
        parts.append(
            f'<text class="insights-empty" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
            f'text-anchor="middle" font-size="14" fill="{TEXT_FILL}">'
            "No searches in this period</text>"
        )
    slot = plot_w / max(len(series), 1)
    bar_w = max(slot * 0.8, 1.0)
    ticks = {0, len(series) - 1, len(series) // 2} if series else set()
    if len(series) > 12:
        ticks |= {len(series) // 4, 3 * len(series) // 4}
    for i, point in enumerate(series):
        x = LEFT + i * slot + (slot - bar_w) / 2
        h = plot_h * point.searches / top
        zero_h = plot_h * point.zero_result_searches / top
        label = escape(
            f"{_point_label(point, unit)}: {point.searches} searches, "
            f"{point.zero_result_searches} without results"
        )
        parts.append(f'<g class="insights-point"><title>{label}</title>')
        # An invisible full-height target, so the hover works on empty days too.
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP}" width="{bar_w:.1f}" height="{plot_h}" '
            f'fill="transparent"/>'
        )
        if point.searches:
            parts.append(
                f'<rect class="insights-bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{BAR_FILL}"/>'
            )
        if point.zero_result_searches:
            parts.append(
                f'<rect class="insights-bar-zero" x="{x:.1f}" y="{TOP + plot_h - zero_h:.1f}" '
                f'width="{bar_w:.1f}" height="{zero_h:.1f}" fill="{ZERO_FILL}"/>'
            )
        parts.append("</g>")
        if i in ticks:
            parts.append(
                f'<text class="insights-axis-label" x="{x + bar_w / 2:.1f}" '
                f'y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                f'fill="{TEXT_FILL}">{escape(_tick_label(point, unit))}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped
