"""A bar chart of available kg by expiry month, laid out in Python and drawn as inline SVG (no JavaScript)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 48
# A phone draws its own chart rather than shrinking the wide one: at 390 px the wide one's labels would be 5 px
# high. About as wide as a phone's screen, so that its text keeps its size, with fewer month labels.
PHONE_WIDTH, PHONE_HEIGHT, PHONE_LABELS = 340, 240, 4


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


def bar_chart(points: list[tuple[date, Decimal]], width: int = WIDTH, height: int = HEIGHT,
              max_labels: int = 12) -> Chart | None:
    """Bars for (month, kg) points in a `width` x `height` drawing with at most `max_labels` month labels; None
    when there is nothing to draw."""
    if not points:
        return None
    top = _nice_max(max(kg for _, kg in points))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / len(points)
    bars = []
    for i, (month, kg) in enumerate(points):
        h = float(kg / top) * plot_h
        bars.append(Bar(x=LEFT + i * slot + slot * 0.15, y=TOP + plot_h - h, width=slot * 0.7, height=h,
                        label=f"{month:%Y-%m}", kg=kg))
    ticks = [Tick(y=TOP + plot_h - plot_h * i / 4, label=f"{(top * i / 4).normalize():,f}") for i in range(5)]
    return Chart(width, height, bars, ticks, LEFT, TOP + plot_h, width - RIGHT, max(1, -(-len(points) // max_labels)))


def phone_chart(points: list[tuple[date, Decimal]]) -> Chart | None:
    """The same bars drawn for a phone's width."""
    return bar_chart(points, PHONE_WIDTH, PHONE_HEIGHT, PHONE_LABELS)
