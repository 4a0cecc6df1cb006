"""Server-drawn SVG bar charts (no script, CSP-safe): the geometry only; the template draws it
and puts the same figures in a table beside it for screen readers and for exact values."""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 160
LEFT, BOTTOM, TOP = 44, 22, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    overlay: list[Bar]  # drawn over the bars (failures over volume)
    ticks: list[tuple[float, str]]  # (y, label) of the value axis
    hour_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def bar_chart(
    title: str,
    labels: list[str],
    values: list[float],
    overlay: list[float] | None = None,
    unit: str = "",
    width: int = WIDTH,
    label_every: int = 4,
) -> Chart:
    """`width`: of the drawing, in the units its text is sized in (a narrow one for a phone
    keeps the labels readable); `label_every`: every how many bars the axis is labelled."""
    top = _nice_ceiling(max([*values, *(overlay or [])], default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (width - LEFT) / max(len(values), 1)

    def bars(series: list[float], shrink: float) -> list[Bar]:
        drawn = []
        for index, value in enumerate(series):
            height = plot_height * (value / top) if value else 0.0
            bar_width = slot * shrink
            x = LEFT + index * slot + (slot - bar_width) / 2
            drawn.append(
                Bar(
                    round(x, 1),
                    round(HEIGHT - BOTTOM - height, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    labels[index],
                    value,
                )
            )
        return drawn

    ticks = [
        (round(HEIGHT - BOTTOM - plot_height * part, 1), f"{top * part:g}{unit}")
        for part in (0, 0.5, 1)
    ]
    hour_labels = [
        (round(LEFT + index * slot + slot / 2, 1), label)
        for index, label in enumerate(labels)
        if index % label_every == 0
    ]
    return Chart(title, bars(values, 0.7), bars(overlay or [], 0.4), ticks, hour_labels, width)
