"""The dashboard's server-side charts: bars scaled to the largest, stacks in series order, and every number of a
heat matrix readable on its shade (WCAG 2.2 AA, 4.5:1)."""

from __future__ import annotations

import pytest

from mcreg.api.pages.charts import LABELS, PALETTE, WIDTH, bars, ink_on, luminance, matrix, shade, stacked


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_bars_are_scaled_to_the_largest_and_keep_their_order() -> None:
    chart = bars([("2024-03", 3), ("2024-04", 1), ("2024-05", 0)])
    widths = [sum(box.width for box in row.boxes) for row in chart.rows]
    assert [row.label for row in chart.rows] == ["2024-03", "2024-04", "2024-05"]
    assert widths[0] == pytest.approx(WIDTH - LABELS - 60) and widths[1] == pytest.approx(widths[0] / 3)
    assert widths[2] == 0 and [row.total for row in chart.rows] == [3, 1, 0]
    assert chart.legend == () and not chart.empty


def test_a_stack_holds_each_series_in_its_colour_and_the_legend_names_them() -> None:
    chart = stacked([("2024-06", "fraud", 2), ("2024-06", "other", 1), ("2024-07", "other", 4)])
    june, july = chart.rows
    assert [(box.label, box.value, box.colour) for box in june.boxes] == [
        ("fraud", 2, PALETTE[0]),
        ("other", 1, PALETTE[1]),
    ]
    assert june.boxes[1].x == pytest.approx(june.boxes[0].x + june.boxes[0].width)
    assert (june.total, july.total) == (3, 4)
    assert [item.label for item in chart.legend] == ["fraud", "other"]


def test_nothing_to_count_draws_an_empty_chart() -> None:
    assert bars([]).empty and matrix([]).empty


@pytest.mark.parametrize("share", [i / 20 for i in range(21)])
def test_every_number_of_a_heat_matrix_reads_at_4_5_to_1(share: float) -> None:
    fill = shade(share)
    assert contrast(fill, ink_on(fill)) >= 4.5, fill


def test_the_palette_stands_out_from_white_for_graphics_and_text() -> None:
    assert all(contrast(colour, "#ffffff") >= 4.5 for colour in PALETTE)


def test_a_matrix_shades_each_cell_by_its_share_of_the_largest() -> None:
    chart = matrix([("DE", "NL", 4), ("DE", "BE", 1), ("NL", "BE", 2)])
    assert [label for label, _ in chart.rows] == ["DE", "NL"] and [label for label, _ in chart.columns] == ["BE", "NL"]
    by_value = {cell.value: cell.fill for cell in chart.cells}
    assert by_value[4] == shade(1.0) == "#1f5fa8" and by_value[0] == "#ffffff"
    assert len(chart.cells) == 4  # NL recognised nothing from NL: a 0, not a gap
