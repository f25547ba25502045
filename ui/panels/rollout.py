"""Rollout: mode, traffic percentage with the sprint presets, live split, alerts, rollback."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton, QSlider, QSpinBox,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.control import SPRINT_PRESETS
from ui.async_bridge import AsyncRunner

MODES = ["off", "shadow", "percentage", "full"]
ALERT_COLORS = {"ok": "#2e9e44", "firing": "#d64545", "no data": "#8a8a8a"}


class RolloutPanel(QWidget):
    """Signals:
        rollout_applied(str, int): the mode and percentage now in force.
        rolled_back(dict): the rollback report (processes reached, slowest).
    """

    rollout_applied = Signal(str, int)
    rolled_back = Signal(dict)

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None,
                 refresh_ms: int = 3000, apply_delay_ms: int = 300) -> None:
        super().__init__(parent)
        self.setObjectName("panel-rollout")
        self.control = control
        self.runner = runner
        self._loading = False
        layout = QVBoxLayout(self)

        box = QGroupBox("Traffic to the agents")
        grid = QGridLayout(box)
        self.state_label = QLabel("")
        self.state_label.setObjectName("rollout-state")
        grid.addWidget(self.state_label, 0, 0, 1, 4)
        grid.addWidget(QLabel("Mode:"), 1, 0)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(MODES)
        self.mode_combo.setToolTip("off: Phase 2 only · shadow: Phase 2 answers, agents get a copy · "
                                   "percentage: sticky share · full: agents only")
        grid.addWidget(self.mode_combo, 1, 1)
        grid.addWidget(QLabel("Share:"), 1, 2)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setTickInterval(10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Share of requests (by sticky hash) sent to the agents in percentage mode")
        self.spin = QSpinBox()
        self.spin.setRange(0, 100)
        self.spin.setSuffix(" %")
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        grid.addLayout(row, 1, 3)
        presets = QHBoxLayout()
        self.preset_buttons: list[QPushButton] = []
        for label, mode, pct in SPRINT_PRESETS:
            button = QPushButton(label)
            button.setToolTip(f"mode {mode}, {pct} %")
            button.clicked.connect(lambda _c=False, m=mode, p=pct: self.apply(m, p))
            presets.addWidget(button)
            self.preset_buttons.append(button)
        grid.addLayout(presets, 2, 0, 1, 4)
        self.rollback_button = QPushButton("Rollback: agents off")
        self.rollback_button.setObjectName("rollback")
        self.rollback_button.setStyleSheet("QPushButton#rollback { color: white; background: #c0392b; padding: 6px 14px; }")
        self.rollback_button.setToolTip("Turn the agents off for every process (asks first)")
        self.rollback_label = QLabel("")
        self.rollback_label.setWordWrap(True)
        grid.addWidget(self.rollback_button, 3, 0)
        grid.addWidget(self.rollback_label, 3, 1, 1, 3)
        layout.addWidget(box)

        lower = QHBoxLayout()
        self.split_plot = pg.PlotWidget(title="Traffic split (requests per minute)", axisItems={"bottom": pg.DateAxisItem()})
        self.split_plot.addLegend(offset=(10, 10))
        self.split_plot.setMinimumHeight(220)
        self.curves = {
            "phase2": self.split_plot.plot(pen=pg.mkPen("#808080", width=2), name="Phase 2"),
            "agents": self.split_plot.plot(pen=pg.mkPen("#3d7bd9", width=2), name="Agents"),
            "shadow": self.split_plot.plot(pen=pg.mkPen("#e0a100", width=2), name="Shadow"),
        }
        lower.addWidget(self.split_plot, 3)
        self.alerts = QTableWidget(0, 4)
        self.alerts.setObjectName("alerts")
        self.alerts.setHorizontalHeaderLabels(["Alert", "Value", "Target / alert at", "State"])
        self.alerts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.alerts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.alerts.setWordWrap(True)
        self.alerts.verticalHeader().setVisible(False)
        lower.addWidget(self.alerts, 2)
        layout.addLayout(lower, 1)

        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(apply_delay_ms)
        self._apply_timer.timeout.connect(lambda: self.apply(self.mode_combo.currentText(), self.spin.value()))
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.spin.valueChanged.connect(self._changed)
        self.mode_combo.currentTextChanged.connect(self._changed)
        self.rollback_button.clicked.connect(self.on_rollback)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(refresh_ms)

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self._apply_timer.start()  # debounce: one write after the slider settles

    def apply(self, mode: str, percentage: int) -> None:
        enable = True if mode != "off" else None
        self.runner.run(self.control.set_rollout(mode, percentage, enable_agents=enable),
                        lambda _r: (self.rollout_applied.emit(mode, percentage), self.refresh()),
                        lambda m: self.state_label.setText(f'<span style="color:#d64545">{m}</span>'))

    def refresh(self) -> None:
        self.runner.run(self.control.rollout(), self._show_state, lambda m: self.state_label.setText(m))
        self.runner.run(self.control.traffic_split(), self._show_split, lambda _m: None)
        self.runner.run(self.control.alerts(), self._show_alerts, lambda _m: None)

    def _show_state(self, state: dict[str, Any]) -> None:
        self._loading = True
        if not self._apply_timer.isActive():
            self.mode_combo.setCurrentText(state["mode"])
            self.spin.setValue(state["percentage"])
        self._loading = False
        color = "#2e9e44" if state["agents_enabled"] else "#d64545"
        self.state_label.setText(
            f'Agents <b style="color:{color}">{"on" if state["agents_enabled"] else "off"}</b> '
            f"({state['reason']}); mode <b>{state['mode']}</b>, {state['percentage']} %")

    def _show_split(self, rows: list[tuple[float, int, int, int]]) -> None:
        if not rows:
            return
        xs = [r[0] for r in rows]
        for i, name in enumerate(("phase2", "agents", "shadow"), start=1):
            self.curves[name].setData(xs, [r[i] for r in rows])

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
        self.rollback_label.setText("Rolling back…")
        self.runner.run(self.control.rollback(), self._rolled_back,
                        lambda m: self.rollback_label.setText(f'<span style="color:#d64545">{m}</span>'))

    def _rolled_back(self, report: dict[str, Any]) -> None:
        slowest = report["slowest_s"]
        took = "–" if slowest is None else f"{slowest * 1000:.0f} ms"
        self.rollback_label.setText(
            f"Agents off. The change reached {report['reached']} of {report['processes']} processes; "
            f"the slowest saw it after {took}.")
        self.rolled_back.emit(report)
        self.refresh()


def _fmt(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:,.0f}"
