"""The searches chart: server-rendered SVG, readable with nothing to show and with a month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from search.insights.charts import searches_chart
from search.insights.selectors import SeriesPoint

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # well-formed XML, or this raises


def test_an_empty_period_draws_axes_and_says_there_were_no_searches():
    start = datetime(2025, 3, 1, tzinfo=UTC)
    series = [SeriesPoint(start + timedelta(days=i), 0, 0) for i in range(7)]
    for points in (series, []):
        svg = searches_chart(series=points)
        root = _parse(svg)
        assert "No searches in this period" in svg
        assert not root.findall(f".//{SVG}rect[@class='insights-bar']")
        assert "style" not in svg


def test_a_full_period_has_a_bar_and_a_hover_title_per_day_and_labelled_axes():
    start = datetime(2025, 3, 1, tzinfo=UTC)
    series = [SeriesPoint(start + timedelta(days=i), 10 * (i + 1), i) for i in range(30)]
    svg = searches_chart(series=series)
    root = _parse(svg)
    points = root.findall(f".//{SVG}g[@class='insights-point']")
    assert len(points) == 30
    assert points[2].find(f"{SVG}title").text == "2025-03-03: 30 searches, 2 without results"
    bars = root.findall(f".//{SVG}rect[@class='insights-bar']")
    heights = [float(b.get("height")) for b in bars]
    assert heights == sorted(heights) and heights[0] < heights[-1]
    labels = [t.text for t in root.findall(f".//{SVG}text")]
    assert "500" in labels and "0" in labels  # y axis up to a round 500 over 300 searches
    assert "Mar 01" in labels and "Mar 30" in labels
    assert "style" not in svg and "<script" not in svg


def test_hourly_series_titles_say_the_hour_and_query_text_cannot_inject_markup():
    start = datetime(2025, 3, 1, 13, tzinfo=UTC)
    svg = searches_chart(series=[SeriesPoint(start, 3, 0)], unit="hour")
    assert "2025-03-01 13:00 UTC: 3 searches" in svg
    assert "Searches per hour" in svg
