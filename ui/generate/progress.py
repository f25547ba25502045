"""The Generate view's progress: a bar by time and step, a status line, what each generator kept,
and the full log. The arithmetic is ``run_progress.RunProgress``; this file only draws it."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.generate.run_progress import RunProgress

PROGRESS_SCALE = 1000


class ProgressView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run: RunProgress | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_SCALE)
        self.progress.setValue(0)
        self.progress.setFormat("")
        box.addWidget(self.progress)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progress-label")
        box.addWidget(self.progress_label)
        # What each generator kept, per file, as it happens; below it the full log. Both resize.
        lower = QSplitter(Qt.Orientation.Vertical)
        self.generators_table = QTableWidget(0, 4)
        self.generators_table.setObjectName("generators")
        self.generators_table.setHorizontalHeaderLabels(["File", "Generator", "Kept", "Time"])
        self.generators_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.generators_table.verticalHeader().setVisible(False)
        self.generators_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.generators_table.setMinimumHeight(60)
        lower.addWidget(self.generators_table)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setObjectName("log")
        self.log.setPlaceholderText("Progress of each agent step appears here.")
        self.log.setMinimumHeight(110)
        lower.addWidget(self.log)
        lower.setSizes([90, 180])
        box.addWidget(lower, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.tick)

    def start(self, estimate_s: float, target: float) -> None:
        """A new request: an empty log and table, the clock running."""
        self.log.clear()
        self.generators_table.setRowCount(0)
        self.run = RunProgress(time.monotonic(), estimate_s, target)
        self.progress.setValue(0)
        self.clock.start()
        self.tick()

    def on_event(self, agent: str, event: dict[str, Any]) -> None:
        """One progress line: the log, the step, coverage so far, and a generator's row when it is one.

        A model's answer growing (``model_stream``) only updates the step: a slow local model is seen
        writing (tokens, tokens/s) without a log line a second."""
        if "model_stream" not in event:
            self.append(f"[{agent}] {event['message']}")
        if self.run is None:
            return
        self.run.on_event(agent, event, time.monotonic())
        if "generator" in event:
            self._generator_row(event)
        self.tick()

    def _generator_row(self, event: dict[str, Any]) -> None:
        table = self.generators_table
        row = table.rowCount()
        table.insertRow(row)
        kept = int(event.get("kept") or 0)
        cells = [event.get("target_file", ""), f"round {event.get('round', 1)}: {event['generator']}",
                 str(kept), f"{float(event.get('seconds') or 0):.0f} s"]
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 2 and not kept:
                item.setForeground(QColor("#8a8a8a"))
            item.setToolTip(event["message"])
            table.setItem(row, column, item)
        table.scrollToBottom()

    def tick(self) -> None:
        """Elapsed time, an estimate of what is left, coverage so far, and the bar by time and step."""
        if self.run is None:
            return
        now = time.monotonic()
        self.progress_label.setText(self.run.label(now))
        self.progress.setValue(max(self.progress.value(), round(self.run.fraction(now) * PROGRESS_SCALE)))
        self.progress.setFormat(f"{self.progress.value() / PROGRESS_SCALE:.0%}")

    def finish(self, failed: bool) -> None:
        """The request ended: how long it took; the bar full, or marked failed."""
        self.clock.stop()
        if self.run is not None:
            self.progress_label.setText(self.run.finished_label(time.monotonic()))
            self.run = None
        if failed:  # nothing was delivered: an empty bar that says so, not a full blue one
            self.progress.setValue(0)
            self.progress.setFormat("failed")
        else:
            self.progress.setValue(PROGRESS_SCALE)
            self.progress.setFormat("100%")

    def append(self, line: str) -> None:
        self.log.appendPlainText(line)

    def show_log(self, text: str) -> None:
        """A past request's whole run log (its generators' table is not kept)."""
        self.log.setPlainText(text or "No log was kept for this request.")
        self.generators_table.setRowCount(0)
