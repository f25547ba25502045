"""Rollout: where new requests go and why, a reviewed change with its audit trail, live split, alerts, rollback."""

from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton, QSlider, QSpinBox,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from engine.errors import AppError
from app.rollout import PRESETS, RolloutService, RolloutState
from ui.async_bridge import AsyncRunner
from ui.charts import plot, show_empty
from ui.stale_note import StaleNote

MODES = ["off", "shadow", "percentage", "full"]
ALERT_COLORS = {"ok": "#2e9e44", "firing": "#d64545", "no data": "#8a8a8a"}


class RolloutPanel(QWidget):
    """Nothing changes until the user reviews it: editing the mode or the share only arms "Apply…", which
    lists each change (old → new) and asks; then the change is written, audited and shown with how many
    processes acknowledged it.

    Signals:
        rollout_applied(str, int): the mode and percentage now in force.
        rolled_back(dict): the rollback report (processes reached, slowest).
    """

    rollout_applied = Signal(str, int)
    rolled_back = Signal(dict)

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None,
                 refresh_ms: int = 3000) -> None:
        super().__init__(parent)
        self.setObjectName("panel-rollout")
        self.control = control
        self.runner = runner
        self.state: RolloutState | None = None
        self._confirm: QMessageBox | None = None
        layout = QVBoxLayout(self)

        box = QGroupBox("Where new requests go")
        grid = QGridLayout(box)
        self.state_label = QLabel("")
        self.state_label.setObjectName("rollout-state")
        self.state_label.setWordWrap(True)
        grid.addWidget(self.state_label, 0, 0, 1, 4)
        self.stale = StaleNote()
        layout.addWidget(self.stale)
        grid.addWidget(QLabel("Mode:"), 1, 0)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(MODES)
        self.mode_combo.setToolTip("off: Phase 2 only · shadow: Phase 2 answers, agents get a copy · "
                                   "percentage: a sticky share goes to the agents · full: agents only")
        grid.addWidget(self.mode_combo, 1, 1)
        self.share_label = QLabel("Share to the agents:")
        grid.addWidget(self.share_label, 1, 2)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setTickInterval(10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.spin = QSpinBox()
        self.spin.setRange(0, 100)
        self.spin.setSuffix(" %")
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        grid.addLayout(row, 1, 3)
        presets = QHBoxLayout()
        presets.addWidget(QLabel("Presets:"))
        self.preset_buttons: list[QPushButton] = []
        for label, mode, pct, sprint in PRESETS:
            button = QPushButton(label)
            button.setToolTip(f"{sprint} (mode {mode}, {pct} %)")
            button.clicked.connect(lambda _c=False, m=mode, p=pct: self.review(m, p))
            presets.addWidget(button)
            self.preset_buttons.append(button)
        presets.addStretch(1)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setToolTip("Review the change, then write it for every process")
        self.apply_button.setEnabled(False)
        presets.addWidget(self.apply_button)
        grid.addLayout(presets, 2, 0, 1, 4)
        self.rollback_button = QPushButton("Rollback: agents off")
        self.rollback_button.setObjectName("rollback")
        self.rollback_button.setStyleSheet("QPushButton#rollback { color: white; background: #c0392b; padding: 6px 14px; }")
        self.rollback_button.setToolTip("Turn the agents off for every process (asks first). Requests that name the "
                                        "agents explicitly (--agents, /api/v2) still run on them, and say so.")
        self.rollback_label = QLabel("")
        self.rollback_label.setWordWrap(True)
        grid.addWidget(self.rollback_button, 3, 0)
        grid.addWidget(self.rollback_label, 3, 1, 1, 3)
        layout.addWidget(box)

        lower = QHBoxLayout()
        # Requests are counts: one bar per minute, stacked by route. A line joined sparse minutes into a
        # flat "1.0/min" that never happened (issue 14).
        # The key is in the title: a legend inside the plot sat over the bars (issue 26).
        routes = (("phase2", "Phase 2", "#808080"), ("agents", "Agents", "#3d7bd9"), ("shadow", "Shadow", "#e0a100"))
        key = " ".join(f'<span style="color:{colour}">■</span> {label}' for _, label, colour in routes)
        self.split_plot = plot("", "requests")
        # Short enough for the plot's width at 1180x760: a longer title widened the plot item past its widget,
        # which cut off the title and the newest minute's bar at the right edge.
        self.split_plot.setTitle(f"Requests per minute (24 h)&nbsp;&nbsp;{key}", size="10pt")
        self.split_plot.setMinimumHeight(220)
        self.bars = {name: pg.BarGraphItem(x=[], height=[], width=50, brush=colour, pen=None)
                     for name, _, colour in routes}
        for bar in self.bars.values():
            self.split_plot.addItem(bar)
        lower.addWidget(self.split_plot, 3)
        right = QVBoxLayout()
        self.alerts = QTableWidget(0, 4)
        self.alerts.setObjectName("alerts")
        self.alerts.setHorizontalHeaderLabels(["Alert", "Value", "Target / alert at", "State"])
        self.alerts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.alerts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.alerts.setWordWrap(True)
        self.alerts.verticalHeader().setVisible(False)
        right.addWidget(self.alerts, 1)
        right.addWidget(QLabel("Changes (newest first)"))
        self.audit = QTableWidget(0, 4)
        self.audit.setObjectName("audit")
        self.audit.setHorizontalHeaderLabels(["When", "Change", "Who", "Reached"])
        self.audit.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.audit.setWordWrap(False)
        self.audit.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.audit.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.audit.verticalHeader().setVisible(False)
        self.audit.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        right.addWidget(self.audit, 1)
        lower.addLayout(right, 2)
        layout.addLayout(lower, 1)

        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self._spin_changed)
        self.mode_combo.currentTextChanged.connect(self._edited)
        self.apply_button.clicked.connect(lambda: self.review(self.mode_combo.currentText(), self.spin.value()))
        self.rollback_button.clicked.connect(self.on_rollback)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(refresh_ms)

    # -- editing: nothing is written until reviewed -------------------------------

    def _slider_moved(self, value: int) -> None:
        if self.spin.value() != value:
            self.spin.setValue(value)

    def _spin_changed(self, value: int) -> None:
        if self.slider.value() != value:
            self.slider.setValue(value)
        self._edited()

    def _edited(self, *_args: Any) -> None:
        percentage_mode = self.mode_combo.currentText() == "percentage"
        for widget in (self.slider, self.spin, self.share_label):
            widget.setEnabled(percentage_mode)
        tip = "" if percentage_mode else "The share only counts in percentage mode: choose that mode first."
        self.slider.setToolTip(tip or "Share of requests (sticky by repository or conversation) sent to the agents")
        self.spin.setToolTip(tip)
        self.apply_button.setEnabled(self.pending() is not None)

    def pending(self) -> tuple[str, int] | None:
        """The edited (mode, percentage) when it differs from what is in force."""
        if self.state is None:
            return None
        mode, pct = self.mode_combo.currentText(), self.spin.value()
        if mode == self.state.mode and (mode != "percentage" or pct == self.state.percentage):
            return None
        return mode, pct

    def review(self, mode: str, percentage: int) -> None:
        """List what would change and ask; a preset or Apply… comes here."""
        enable = True if mode != "off" else None
        if (service := self._service()) is None:
            return
        self.runner.run(service.changes(mode, percentage, enable),
                        lambda changes: self._confirm_changes(mode, percentage, enable, changes), self._error)

    def _confirm_changes(self, mode: str, percentage: int, enable: bool | None, changes: list[Any]) -> None:
        if not changes:
            self.rollback_label.setText("Nothing to change: that is what is in force.")
            self._reset_editors()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Apply this rollout change?",
                          "For every process, from the next request:\n\n"
                          + "\n".join(f"• {c.describe()}" for c in changes),
                          QMessageBox.StandardButton.Apply | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda code: self._apply(mode, percentage, enable)
                             if code == QMessageBox.StandardButton.Apply else self._reset_editors())
        box.open()
        self._confirm = box

    def _apply(self, mode: str, percentage: int, enable: bool | None) -> None:
        def done(report: dict[str, Any]) -> None:
            self.rollback_label.setText(f"Applied: {'; '.join(report['changes'])}. {_reach(report)}")
            self.rollout_applied.emit(mode, percentage)
            self.refresh()

        if (service := self._service()) is not None:
            self.runner.run(service.apply(mode, percentage, enable), done, self._error)

    def _reset_editors(self) -> None:
        if self.state is not None:
            self._show_state(self.state, force=True)

    def _error(self, message: str) -> None:
        self.rollback_label.setText(f'<span style="color:#d64545">{message}</span>')

    # -- what is in force ------------------------------------------------------------

    def _service(self) -> RolloutService | None:
        """The rollout service, or None (said on the panel) while the app's services are stopped.

        It is built on the pool, which raises between shutdown and start: the refresh timer's
        last tick after a shutdown put that traceback in the Qt event loop (a CI teardown).
        """
        try:
            return self.control.rollouts
        except AppError as exc:
            self._error(str(exc))
            return None

    def refresh(self) -> None:
        if (service := self._service()) is None:
            return
        self.runner.refresh("rollout-state", service.state(), self._fresh_state, self.stale.stale)
        self.runner.refresh("rollout-split", service.traffic_split(), self._show_split, lambda _m: None)
        self.runner.refresh("rollout-audit", service.audit(), self._show_audit, lambda _m: None)
        self.runner.refresh("rollout-alerts", service.alerts(), self._show_alerts, lambda _m: None)

    def _fresh_state(self, state: RolloutState) -> None:
        self.stale.fresh()
        self._show_state(state)

    def _show_state(self, state: RolloutState, force: bool = False) -> None:
        editing = self.pending() is not None and not force
        self.state = state
        if not editing:  # never overwrite what the user is editing
            for widget, value in ((self.mode_combo, state.mode), (self.spin, state.percentage)):
                widget.blockSignals(True)
                widget.setCurrentText(value) if isinstance(widget, QComboBox) else widget.setValue(value)
                widget.blockSignals(False)
            self.slider.blockSignals(True)
            self.slider.setValue(state.percentage)
            self.slider.blockSignals(False)
        colour = "#2e9e44" if state.agents_enabled else "#d64545"
        self.state_label.setText(f'<span style="color:{colour}">●</span> {state.where}')
        self._edited()

    def _show_audit(self, rows: list[dict[str, Any]]) -> None:
        self.audit.setRowCount(len(rows))
        for i, r in enumerate(rows):
            ack = r["acknowledged"] or {}
            when = r["changed_at"].astimezone()
            change = f"{r['setting']}: {r['old_value'] if r['old_value'] is not None else '(unset)'} → {r['new_value']}"
            # Short cells, the whole in each tooltip: the Acknowledged sentence pushed Who off-screen (issue 26).
            cells = [(when.strftime("%H:%M:%S"), when.strftime("%Y-%m-%d %H:%M:%S")), (change, change),
                     (r["actor"], r["actor"]), (_reach_short(ack), _reach(ack)) if ack else ("–", "not acknowledged")]
            for j, (text, whole) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(whole)
                self.audit.setItem(i, j, item)

    def _show_split(self, rows: list[tuple[float, int, int, int]]) -> None:
        xs = [r[0] + 30 for r in rows]  # the middle of each minute
        base = [0] * len(rows)
        for i, name in enumerate(("phase2", "agents", "shadow"), start=1):
            heights = [r[i] for r in rows]
            self.bars[name].setOpts(x=xs, height=heights, y0=list(base), width=50)
            base = [b + h for b, h in zip(base, heights)]
        now = time.time()
        show_empty(self.split_plot, None if rows else "No requests in the last 24 h", x_range=(now - 3600, now),
                   y_top=5.0)
        if rows:
            # At least the last hour, whole counts from 0: one request filled the plot as a block over a 50 s
            # axis (issue 26).
            self.split_plot.disableAutoRange()
            self.split_plot.setXRange(min(now - 3600, xs[0] - 60), now + 60, padding=0)
            top = max(base)
            self.split_plot.setYRange(0, max(4, top + 1), padding=0)
            self.split_plot.getAxis("left").setTickSpacing(major=max(1, round(max(4, top) / 4)), minor=1)

    def _show_alerts(self, alerts: list[Any]) -> None:
        self.alerts.setRowCount(len(alerts))
        for i, a in enumerate(alerts):
            value = "–" if a.value is None else _fmt(a.value, a.unit)
            cells = [a.name, value, f"{a.target} / {a.rule.op} {_fmt(a.threshold, a.unit)}", a.state]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 3:
                    item.setForeground(QColor(ALERT_COLORS[a.state]))
                self.alerts.setItem(i, j, item)

    def on_rollback(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Roll back?",
                          "Turn the agents off for every process? New requests go to Phase 2; "
                          "requests already with the agents finish.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda code: self.rollback() if code == QMessageBox.StandardButton.Yes else None)
        box.open()
        self._confirm = box

    def rollback(self) -> None:
        if (service := self._service()) is None:
            return
        self.rollback_label.setText("Rolling back…")
        self.runner.run(service.rollback(), self._rolled_back,
                        lambda m: self.rollback_label.setText(f'<span style="color:#d64545">{m}</span>'))

    def _rolled_back(self, report: dict[str, Any]) -> None:
        self.rollback_label.setText(f"Agents off. {_reach(report)}")
        self.rolled_back.emit(report)
        self.refresh()


def _reach(report: dict[str, Any]) -> str:
    slowest = report.get("slowest_s")
    took = "–" if slowest is None else f"{slowest * 1000:.0f} ms"
    return (f"The change reached {report.get('reached', 0)} of {report.get('processes', 0)} processes; "
            f"the slowest saw it after {took}.")


def _reach_short(report: dict[str, Any]) -> str:
    """The acknowledgement in a cell: "3/3 in 12 ms"."""
    slowest = report.get("slowest_s")
    took = "" if slowest is None else f" in {slowest * 1000:.0f} ms"
    return f"{report.get('reached', 0)}/{report.get('processes', 0)}{took}"


def _fmt(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:,.0f}"
