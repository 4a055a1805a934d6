"""Charts drawn on the server as SVG: the geometry of bar charts, stacked bar charts and heat matrices.

A chart here is plain data (boxes, their labels and values, positions in SVG user units); the ``charts.html``
macros draw it with ``role="img"``, a title and a description, and every page shows the same numbers in a table
beside it. Labels are codes (a status, a month, a country); the templates word them. No script, no library: a
few rectangles are all a bar chart needs, and the geometry is tested like any other function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
"""Every chart's width in SVG user units (it scales to its container)."""
LABELS = 180
"""The width kept left of the bars for their labels."""
ROW = 26
"""A bar's row height."""
BAR = 18
"""A bar's thickness."""

PALETTE = ("#1f5fa8", "#b34700", "#2e7d32", "#6a3d9a", "#a4162b", "#00695c", "#5d4037", "#37474f")
"""Series colours, each at least 4.5:1 against white (WCAG 1.4.11 asks 3:1 of graphics)."""


@dataclass(frozen=True, slots=True)
class Box:
    """One rectangle of a chart, with the code it stands for and its value."""

    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class Row:
    """A labelled row of a bar chart: one box, or several stacked; ``total`` written after them."""

    label: str
    y: float
    boxes: tuple[Box, ...]
    total: int
    total_x: float


@dataclass(frozen=True, slots=True)
class Legend:
    label: str
    colour: str
    x: float


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, stacked when ``legend`` names the series."""

    rows: tuple[Row, ...]
    legend: tuple[Legend, ...]
    width: int
    height: int

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True, slots=True)
class Cell:
    x: float
    y: float
    value: int
    fill: str
    ink: str


@dataclass(frozen=True, slots=True)
class Matrix:
    """A heat matrix: rows by columns, each cell shaded by its value against the largest."""

    rows: tuple[tuple[str, float], ...]  # label, y
    columns: tuple[tuple[str, float], ...]  # label, x (centre)
    cells: tuple[Cell, ...]
    size: int
    width: int
    height: int

    @property
    def empty(self) -> bool:
        return not self.cells


def bars(counts: Sequence[tuple[str, int]]) -> BarChart:
    """One bar per (label, value)."""
    return stacked([(label, "", value) for label, value in counts])


def stacked(counts: Sequence[tuple[str, str, int]]) -> BarChart:
    """One row per first label, its bar stacked by second label (a series, in the legend unless it is "")."""
    groups: dict[str, dict[str, int]] = {}
    for group, series, value in counts:
        values = groups.setdefault(group, {})
        values[series] = values.get(series, 0) + value
    series_names = sorted({series for _, series, _ in counts})
    colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(series_names)}
    legend = tuple(Legend(name, colours[name], LABELS + index * 150) for index, name in enumerate(series_names) if name)
    top = ROW if legend else 0
    largest = max((sum(values.values()) for values in groups.values()), default=0)
    scale = (WIDTH - LABELS - 60) / largest if largest else 0
    rows = []
    for index, (group, values) in enumerate(groups.items()):
        y = top + index * ROW
        x = float(LABELS)
        boxes = []
        for name in series_names:
            if values.get(name):
                width = values[name] * scale
                boxes.append(Box(x, y + (ROW - BAR) / 2, width, BAR, values[name], name, colours[name]))
                x += width
        rows.append(Row(group, y + ROW / 2, tuple(boxes), sum(values.values()), x + 6))
    return BarChart(tuple(rows), legend, WIDTH, top + max(len(rows), 1) * ROW)


def matrix(counts: Sequence[tuple[str, str, int]], size: int = 40) -> Matrix:
    """A cell per (row, column, value), shaded from white to the first series colour, its number in the ink that
    reads best on it."""
    row_labels = sorted({r for r, _, _ in counts})
    column_labels = sorted({c for _, c, _ in counts})
    values: dict[tuple[str, str], int] = {}
    for r, c, value in counts:
        values[r, c] = values.get((r, c), 0) + value
    largest = max(values.values(), default=0)
    left, top = 60, 30
    cells = []
    for i, r in enumerate(row_labels):
        for j, c in enumerate(column_labels):
            value = values.get((r, c), 0)
            share = value / largest if largest else 0
            cells.append(
                Cell(left + j * size, top + i * size, value, shade(share), "#ffffff" if share > 0.5 else "#1a1a1a")
            )
    return Matrix(
        rows=tuple((r, top + i * size + size / 2) for i, r in enumerate(row_labels)),
        columns=tuple((c, left + j * size + size / 2) for j, c in enumerate(column_labels)),
        cells=tuple(cells),
        size=size,
        width=left + max(len(column_labels), 1) * size + 10,
        height=top + max(len(row_labels), 1) * size + 10,
    )


def shade(share: float) -> str:
    """White mixed with the first series colour (#1f5fa8) in proportion to ``share``."""
    target = (0x1F, 0x5F, 0xA8)
    return "#" + "".join(f"{round(255 - (255 - t) * share):02x}" for t in target)


def ink_on(fill: str) -> str:
    """Black or white, whichever contrasts at least 4.5:1 with ``fill`` (#rrggbb): one always does, since black
    does down to a relative luminance of 0.175 and white up to 0.183."""
    return "#000000" if luminance(fill) >= 0.18 else "#ffffff"


def luminance(colour: str) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour (#rrggbb)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
