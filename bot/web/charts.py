"""Charts drawn on the server as inline SVG: the dashboard needs no script and no network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 150
VALUE_WIDTH = 70
CHART_WIDTH = 560
COLUMN_AREA_HEIGHT = 140
AXIS_HEIGHT = 22
TOP_MARGIN = 18

STATUS_COLOURS = {
    "green": "#2e7d32",
    "amber": "#ef8f00",
    "red": "#c62828",
    "none": "#9e9e9e",
}
NEUTRAL = "#3f6fb5"


@dataclass(frozen=True)
class Bar:
    """One labelled value; `shown` is how the number is written next to the bar."""

    label: str
    value: float
    shown: str
    status: str | None = None


def _colour(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", NEUTRAL)


def _svg_open(name: str, title: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(name)}" role="img" '
        f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    )


def bar_chart(
    name: str,
    title: str,
    bars: Sequence[Bar],
    *,
    max_value: float | None = None,
    target: float | None = None,
) -> str:
    """Horizontal bars, one per row: readable on a phone as on a laptop."""
    top = max_value if max_value is not None else max((bar.value for bar in bars), default=0)
    top = max(top, target or 0) or 1
    track = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    parts = [_svg_open(name, title, CHART_WIDTH, height)]
    for row, bar in enumerate(bars):
        y = BAR_GAP + row * (BAR_HEIGHT + BAR_GAP)
        width = max(0.0, min(bar.value, top)) / top * track
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{bar.value:g}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'text-anchor="end" class="label">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{track}" height="{BAR_HEIGHT}" '
            f'class="track" fill="#eceff1"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{_colour(bar.status)}"/>'
            f'<text x="{LABEL_WIDTH + track + 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'class="value">{escape(bar.shown)}</text></g>'
        )
    if target is not None:
        x = LABEL_WIDTH + min(target, top) / top * track
        parts.append(
            f'<line class="target" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}" '
            f'stroke="#263238" stroke-dasharray="4 3"/>'
        )
    if not bars:
        parts.append(f'<text x="8" y="{BAR_HEIGHT}" class="empty">No data yet</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    name: str,
    title: str,
    columns: Sequence[Bar],
    *,
    max_value: float | None = None,
    target: float | None = None,
) -> str:
    """Vertical columns along an axis (weeks, ratings), with an optional target line."""
    top = max_value if max_value is not None else max((col.value for col in columns), default=0)
    top = max(top, target or 0) or 1
    count = max(1, len(columns))
    slot = CHART_WIDTH / count
    width = min(56.0, slot * 0.7)
    height = TOP_MARGIN + COLUMN_AREA_HEIGHT + AXIS_HEIGHT
    base = TOP_MARGIN + COLUMN_AREA_HEIGHT
    parts = [_svg_open(name, title, CHART_WIDTH, height)]
    parts.append(f'<line x1="0" x2="{CHART_WIDTH}" y1="{base}" y2="{base}" stroke="#b0bec5"/>')
    for index, column in enumerate(columns):
        centre = slot * index + slot / 2
        tall = max(0.0, min(column.value, top)) / top * COLUMN_AREA_HEIGHT
        parts.append(
            f'<g class="bar" data-label="{escape(column.label)}" data-value="{column.value:g}">'
            f'<rect x="{centre - width / 2:.1f}" y="{base - tall:.1f}" width="{width:.1f}" '
            f'height="{tall:.1f}" fill="{_colour(column.status)}"/>'
            f'<text x="{centre:.1f}" y="{max(12.0, base - tall - 4):.1f}" '
            f'text-anchor="middle" class="value">{escape(column.shown)}</text>'
            f'<text x="{centre:.1f}" y="{base + 16}" text-anchor="middle" '
            f'class="label">{escape(column.label)}</text></g>'
        )
    if target is not None:
        y = base - min(target, top) / top * COLUMN_AREA_HEIGHT
        parts.append(
            f'<line class="target" x1="0" x2="{CHART_WIDTH}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#263238" stroke-dasharray="4 3"/>'
        )
    if not columns:
        parts.append(f'<text x="8" y="{base - 8}" class="empty">No data yet</text>')
    parts.append("</svg>")
    return "".join(parts)
