"""Pictures computed on the server, drawn as inline SVG by the templates: readable without
JavaScript, and without inline styles (the CSP forbids them; SVG attributes are fine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Bar:
    key: str
    value: int
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    width: int
    label_width: int


def bar_chart(
    values: dict[str, int], order: list[str] | None = None, width: int = 260, row: int = 24
) -> BarChart:
    """One horizontal bar per key (in ``order`` when given, else largest first)."""
    keys = order if order is not None else sorted(values, key=lambda k: -values[k])
    top = max([values.get(k, 0) for k in keys] + [1])
    bars = [
        Bar(k, values.get(k, 0), i * row, max(2, round(width * values.get(k, 0) / top)))
        for i, k in enumerate(keys)
    ]
    return BarChart(bars=bars, height=max(row, len(bars) * row), width=width, label_width=150)


@dataclass(frozen=True)
class Dot:
    key: str
    title: str
    status: str
    x: int
    due: date


@dataclass(frozen=True)
class TimelinePicture:
    dots: list[Dot]
    today_x: int | None
    width: int
    start: date
    end: date


def timeline_picture(
    items: list[tuple[str, str, str, date]], today: date, width: int = 720
) -> TimelinePicture:
    """A dot per task (key, title, status, due) on one line from the first to the last due
    date, and a mark for today."""
    if not items:
        return TimelinePicture([], None, width, today, today)
    start = min(min(due for *_, due in items), today)
    end = max(max(due for *_, due in items), today)
    span = max((end - start).days, 1)
    inner = width - 20

    def x_of(day: date) -> int:
        return 10 + round(inner * (day - start).days / span)

    dots = [Dot(key, title, status, x_of(due), due) for key, title, status, due in items]
    return TimelinePicture(dots, x_of(today), width, start, end)
