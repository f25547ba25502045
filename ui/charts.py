"""pyqtgraph charts as the panels draw them: titled, gridded, and honest when empty."""

from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True, background="w", foreground="k")


def human_number(value: float, unit: str = "") -> str:
    """A tick as a person writes it: 1M, 800k, 2.5k, 12, 0.5; "$0.11" for dollars.

    pyqtgraph wrote the daily budget as "1e+06" and the cost axis as "USD (x0.001)" with ticks 10..110
    (issue 26).
    """
    if unit == "usd":
        return f"${value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"${value:.4f}"
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


class HumanAxis(pg.AxisItem):
    """A value axis whose ticks read as numbers a person writes, never rescaled by an SI prefix."""

    def __init__(self, unit: str = "", orientation: str = "left", **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.unit = unit
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 (Qt name)
        return [human_number(v * scale, self.unit) for v in values]


def plot(title: str, left: str, time_axis: bool = True, unit: str = "") -> pg.PlotWidget:
    """``unit``: "usd" writes the value axis in dollars; any other value axis in plain numbers (1M, 800k)."""
    axis: dict[str, pg.AxisItem] = {"left": HumanAxis(unit)}
    if time_axis:
        axis["bottom"] = pg.DateAxisItem()
    widget = pg.PlotWidget(title=title, axisItems=axis)
    widget.setLabel("left", left)
    widget.showGrid(x=True, y=True, alpha=0.2)
    widget.setMinimumHeight(170)
    widget.getPlotItem().setDownsampling(auto=True, mode="peak")
    widget.getPlotItem().setClipToView(True)
    note = pg.TextItem("", color="#777777", anchor=(0.5, 0.5))
    note.setZValue(10)
    widget.addItem(note, ignoreBounds=True)
    widget.empty_note = note  # type: ignore[attr-defined]
    return widget


def show_empty(plot: pg.PlotWidget, text: str | None, *, x_range: tuple[float, float], y_top: float) -> None:
    """An empty chart says so in words over sane axes: with nothing to fit, pyqtgraph drew five identical
    "1e+06" ticks, a time axis of "00.250" and a latency axis from -400 to 400 (issue 14)."""
    note: pg.TextItem = plot.empty_note  # type: ignore[attr-defined]
    note.setText(text or "")
    if text is None:
        plot.enableAutoRange()
        return
    plot.setXRange(*x_range, padding=0)
    plot.setYRange(0, y_top, padding=0)
    note.setPos((x_range[0] + x_range[1]) / 2, y_top / 2)
