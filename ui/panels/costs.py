"""Costs: tokens against the budget, cost per hour and day, latency, errors, by agent.

Charts are redrawn from a summary the service computes in SQL (hourly
buckets), so a chart never holds more points than hours shown; pyqtgraph's
auto downsampling and clip-to-view guard the rest.
"""

from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.outcome import COLOURS
from ui.async_bridge import AsyncRunner
from ui.charts import HumanAxis
from ui.charts import plot as _plot
from ui.charts import show_empty
from ui.stale_note import StaleNote

def gauge_state(ratio: float) -> str:
    """ok below 80 %, amber from 80 %, red from 100 %."""
    return "red" if ratio >= 1.0 else ("amber" if ratio >= 0.8 else "ok")


_GAUGE_COLORS = {"ok": "#2e9e44", "amber": "#e0a100", "red": "#d64545"}


class CostsPanel(QWidget):
    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None,
                 refresh_ms: int = 5000) -> None:
        super().__init__(parent)
        self.setObjectName("panel-costs")
        self.control = control
        self.runner = runner
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        box = QGroupBox("Daily token budget")
        bl = QVBoxLayout(box)
        self.gauge = QProgressBar()
        self.gauge.setObjectName("budget-gauge")
        self.gauge.setRange(0, 1000)
        self.gauge.setMinimumWidth(320)
        self.gauge_state = "ok"
        bl.addWidget(self.gauge)
        top.addWidget(box, 1)
        self.figures = QLabel("")
        self.figures.setObjectName("cost-figures")
        top.addWidget(self.figures, 1)
        layout.addLayout(top)
        self.stale = StaleNote()
        layout.addWidget(self.stale)

        grid = QGridLayout()
        self.tokens_plot = _plot("Tokens used, cumulative over 24 h (red: daily budget)", "tokens")
        self.tokens_curve = self.tokens_plot.plot(pen=pg.mkPen("#3d7bd9", width=2), symbol="o", symbolSize=5)
        self.budget_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#d64545", style=pg.QtCore.Qt.PenStyle.DashLine))
        self.tokens_plot.addItem(self.budget_line)
        self.cost_plot = _plot("Cost per hour and per day (USD)", "cost", unit="usd")
        self.cost_hour = self.cost_plot.plot(pen=pg.mkPen("#2e9e44", width=2), name="per hour")
        self.cost_day = self.cost_plot.plot(pen=None, symbol="s", symbolBrush="#e0a100", name="per day")
        self.latency_plot = _plot("Latency: Phase 2 vs Phase 3 (s)", "seconds", time_axis=False)
        self.latency_plot.getAxis("bottom").setTicks([[(0, "P2 p50"), (1, "P2 p95"), (2, "P3 p50"), (3, "P3 p95")]])
        self.latency_bars = pg.BarGraphItem(x=[0, 1, 2, 3], height=[0, 0, 0, 0], width=0.6,
                                            brushes=["#9ab", "#678", "#7bd", "#36a"])
        self.latency_plot.addItem(self.latency_bars)
        # A tier that ran no request says so over its place: Phase 3 with no run was drawn as a zero bar.
        self.latency_notes = [pg.TextItem("", color="#777777", anchor=(0.5, 1.0)) for _ in range(4)]
        for note in self.latency_notes:
            self.latency_plot.addItem(note, ignoreBounds=True)
        # Lying bars: six agent names under vertical bars ran into each other at 1180x760.
        self.by_agent_plot = _plot("Tokens by agent type", "", time_axis=False)
        self.by_agent_plot.setAxisItems({"left": pg.AxisItem("left"), "bottom": HumanAxis(orientation="bottom")})
        self.by_agent_bars = pg.BarGraphItem(x0=0, y=[], width=[], height=0.6, brush="#7b5cd6")
        self.by_agent_plot.addItem(self.by_agent_bars)
        grid.addWidget(self.tokens_plot, 0, 0)
        grid.addWidget(self.cost_plot, 0, 1)
        grid.addWidget(self.latency_plot, 1, 0)
        grid.addWidget(self.by_agent_plot, 1, 1)
        layout.addLayout(grid, 1)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(refresh_ms)

    def refresh(self) -> None:
        self.runner.refresh("costs", self.control.costs.cost_series(), self.show_series, self.stale.stale)

    def show_series(self, s: dict[str, Any]) -> None:
        self.stale.fresh()
        budget = s["budget"]
        ratio = budget["ratio"]
        self.gauge_state = gauge_state(ratio)
        self.gauge.setValue(min(1000, round(ratio * 1000)))
        self.gauge.setFormat(f"{budget['used']:,} of {budget['budget']:,} tokens today ({ratio:.0%})")
        self.gauge.setStyleSheet(f"QProgressBar::chunk {{ background: {_GAUGE_COLORS[self.gauge_state]}; }}")
        now = time.time()
        day = (now - 86400, now)
        if s["tokens_per_hour"]:
            xs, ys = zip(*s["tokens_per_hour"])
            running, total = [], 0.0
            for y in ys:
                total += y
                running.append(total)
            self.tokens_curve.setData(list(xs), running)
        else:
            self.tokens_curve.setData([], [])
        self.budget_line.setValue(budget["budget"])
        show_empty(self.tokens_plot, None if s["tokens_per_hour"] else "No tokens used (24 h)",
                   x_range=day, y_top=budget["budget"] * 1.1)
        if s["cost_per_hour"]:
            xs, ys = zip(*s["cost_per_hour"])
            self.cost_hour.setData(list(xs), list(ys))
        if s["cost_per_day"]:
            xs, ys = zip(*s["cost_per_day"])
            self.cost_day.setData(list(xs), list(ys))
        show_empty(self.cost_plot, None if s["cost_per_day"] else "No cost yet: no model call was made",
                   x_range=(now - 14 * 86400, now), y_top=1.0)
        lat = s["latency"]
        values = [lat[k] for k in ("phase2_p50", "phase2_p95", "phase3_p50", "phase3_p95")]
        heights = [v or 0 for v in values]
        self.latency_bars.setOpts(height=heights)
        show_empty(self.latency_plot, None if any(heights) else "No finished request yet",
                   x_range=(-0.5, 3.5), y_top=60.0)
        if any(heights):
            self.latency_plot.setYRange(0, max(heights) * 1.15, padding=0)
        for x, (note, value) in enumerate(zip(self.latency_notes, values)):
            note.setText("no runs" if value is None and any(heights) else "")
            note.setPos(x, max(heights) * 0.12 if any(heights) else 0)
        types = sorted(s["tokens_by_agent_type"], reverse=True)  # read top-down in alphabetical order
        self.by_agent_bars.setOpts(x0=0, y=list(range(len(types))), height=0.6,
                                   width=[s["tokens_by_agent_type"][t] for t in types])
        self.by_agent_plot.getAxis("left").setTicks([list(enumerate(types))])
        show_empty(self.by_agent_plot, None if types else "No tokens used by any agent yet",
                   x_range=(0, 1000.0), y_top=5.5)
        if types:
            self.by_agent_plot.setYRange(-0.5, len(types) - 0.5, padding=0.02)
            self.by_agent_plot.setXRange(0, max(s["tokens_by_agent_type"].values()) * 1.05, padding=0)
        err = s["error_rate"]
        total_cost = sum(c for _, c in s["cost_per_day"])
        unpriced = s.get("unpriced_models") or []
        self.figures.setText(
            "Error rate (generation, 24 h): "
            + ("<b>no data yet</b>" if err is None else
               f'<b style="color:{COLOURS["failed"] if err > 0.05 else COLOURS["completed"]}">{err:.1%}</b>')
            + "<br>"
            f"Cost, last 14 days: <b>${total_cost:.4f}</b><br>"
            f"Tokens, last 24 h: <b>{sum(t for _, t in s['tokens_per_hour']):,.0f}</b>"
            + (f'<br><span style="color:#a35f00">Cost unknown for {", ".join(unpriced)}: add a price '
               "(Settings panel, llm_prices)</span>" if unpriced else ""))
