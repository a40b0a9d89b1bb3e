"""A bar chart of available kg by expiry month, laid out in Python and drawn as inline SVG (no JavaScript)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 48


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # "2027-03"
    kg: Decimal


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    plot_left: int
    plot_bottom: int
    plot_right: int
    label_every: int  # print every n-th month under the axis so labels never overlap


def _nice_max(top: Decimal) -> Decimal:
    """Round the axis up to 1, 2 or 5 times a power of ten, so tick labels are round numbers."""
    if top <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (top.adjusted())
    for step in (1, 2, 5, 10):
        if top <= magnitude * step:
            return magnitude * step
    return (top / magnitude).to_integral_value(ROUND_CEILING) * magnitude


def bar_chart(points: list[tuple[date, Decimal]]) -> Chart | None:
    """Bars for (month, kg) points; None when there is nothing to draw."""
    if not points:
        return None
    top = _nice_max(max(kg for _, kg in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)
    bars = []
    for i, (month, kg) in enumerate(points):
        h = float(kg / top) * plot_h
        bars.append(Bar(x=LEFT + i * slot + slot * 0.15, y=TOP + plot_h - h, width=slot * 0.7, height=h,
                        label=f"{month:%Y-%m}", kg=kg))
    ticks = [Tick(y=TOP + plot_h - plot_h * i / 4, label=f"{(top * i / 4).normalize():,f}") for i in range(5)]
    return Chart(WIDTH, HEIGHT, bars, ticks, LEFT, TOP + plot_h, WIDTH - RIGHT, max(1, -(-len(points) // 12)))
