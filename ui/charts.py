"""pyqtgraph charts as the panels draw them: titled, gridded, and honest when empty."""

from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True, background="w", foreground="k")


def plot(title: str, left: str, time_axis: bool = True) -> pg.PlotWidget:
    axis = {"bottom": pg.DateAxisItem()} if time_axis else {}
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
