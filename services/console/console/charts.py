"""Charts as inline SVG geometry, computed here so the pages need no chart script."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    value: float
    y: float
    width: float


@dataclass
class BarChart:
    bars: list[Bar]
    height: float
    scale_width: float
    label_width: float


BAR_HEIGHT = 22
LABEL_WIDTH = 220
SCALE_WIDTH = 360


def bar_chart(rows: list[tuple[str, float]]) -> BarChart:
    """Horizontal bars of rates (0–1), one row per label, in the order given."""
    bars = [
        Bar(label, value, y=i * BAR_HEIGHT, width=max(0.0, min(value, 1.0)) * SCALE_WIDTH)
        for i, (label, value) in enumerate(rows)
    ]
    return BarChart(bars, len(bars) * BAR_HEIGHT, SCALE_WIDTH, LABEL_WIDTH)


@dataclass
class Column:
    label: str
    first: int
    second: int
    x: float
    first_height: float
    second_height: float


@dataclass
class ColumnChart:
    columns: list[Column]
    width: float
    height: float
    top: int


COLUMN_STEP = 70
COLUMN_HEIGHT = 160


def column_chart(weeks: list[tuple[str, int, int]]) -> ColumnChart:
    """Paired columns per week (e.g. reported and closed), scaled to the largest count."""
    top = max([1, *(max(a, b) for _, a, b in weeks)])
    columns = [
        Column(
            label,
            first,
            second,
            x=i * COLUMN_STEP,
            first_height=first / top * COLUMN_HEIGHT,
            second_height=second / top * COLUMN_HEIGHT,
        )
        for i, (label, first, second) in enumerate(weeks)
    ]
    return ColumnChart(columns, max(1, len(columns)) * COLUMN_STEP, COLUMN_HEIGHT, top)
