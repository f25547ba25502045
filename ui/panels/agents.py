"""Agents: a live table of the registry, one agent's recent tasks, start and drain."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSplitter, QTableView,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from agents.constants import AGENT_TYPES
from ui.async_bridge import AsyncRunner
from ui.stale_note import StaleNote

STATUS_COLORS = {"healthy": "#2e9e44", "unhealthy": "#d64545", "shutting_down": "#c98a00"}


class AgentsModel(QAbstractTableModel):
    COLUMNS = ["Agent", "Type", "Status", "Capabilities", "Active", "Done today", "Heartbeat"]
    KEYS = ["agent_id", "agent_type", "status", "capabilities", "active_tasks", "completed_today", "heartbeat_age_s"]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row = self.rows[index.row()]
        key = self.KEYS[index.column()]
        value = row[key]
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return value if not isinstance(value, list) else ", ".join(value)
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "capabilities":
                return ", ".join(value)
            if key == "heartbeat_age_s":
                return "–" if value is None else f"{value:.0f} s ago"
            if key == "status":
                return f"● gone ({value})" if row.get("gone") else f"● {value}"
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole and row.get("gone"):
            return QColor("#9a9a9a")  # silent past the grace period: greyed, not counted in availability
        if role == Qt.ItemDataRole.ForegroundRole and key == "status":
            return QColor(STATUS_COLORS.get(value, "#8a8a8a"))
        if role == Qt.ItemDataRole.ToolTipRole and row.get("gone"):
            return ("No heartbeat for over 10 minutes: this agent is taken for gone and left out of the "
                    "availability figures and alerts.")
        if role == Qt.ItemDataRole.ToolTipRole and key == "agent_id":
            return _where(value, row)
        return None


class AgentsFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(Qt.ItemDataRole.UserRole)
        self.text = ""
        self.agent_type = ""

    def set_filter(self, text: str, agent_type: str) -> None:
        self.beginFilterChange()
        self.text, self.agent_type = text.lower(), agent_type
        self.endFilterChange()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802
        r = self.sourceModel().rows[row]
        return (not self.agent_type or r["agent_type"] == self.agent_type) and (
            not self.text or self.text in f"{r['agent_id']} {r['status']} {' '.join(r['capabilities'])}".lower())


class AgentsPanel(QWidget):
    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None,
                 refresh_ms: int = 2000) -> None:
        super().__init__(parent)
        self.setObjectName("panel-agents")
        self.control = control
        self.runner = runner
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by id, status or capability")
        self.type_combo = QComboBox()
        self.type_combo.addItem("All types", "")
        for t in AGENT_TYPES:
            self.type_combo.addItem(t, t)
        self.start_type = QComboBox()
        for t in AGENT_TYPES:
            self.start_type.addItem(t, t)
        self.start_button = QPushButton("Start instance")
        self.start_button.setToolTip("Start another instance of this type in this process")
        self.stop_button = QPushButton("Stop (drain)")
        self.stop_button.setToolTip("Let the selected instance finish its tasks, then stop it")
        self.type_combo.setToolTip("Show only agents of this type")
        self.start_type.setToolTip("The type of the instance Start instance adds")
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.type_combo)
        bar.addSpacing(20)
        bar.addWidget(QLabel("New instance of:"))
        bar.addWidget(self.start_type)
        bar.addWidget(self.start_button)
        bar.addWidget(self.stop_button)
        layout.addLayout(bar)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.model = AgentsModel()
        self.proxy = AgentsFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("agents-table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        splitter.addWidget(self.table)
        detail = QWidget()
        dl = QVBoxLayout(detail)
        self.detail_label = QLabel("Select an agent to see its recent tasks and errors.")
        dl.addWidget(self.detail_label)
        self.detail = QTableWidget(0, 4)
        self.detail.setHorizontalHeaderLabels(["Task", "Type", "Status", "Error / time"])
        self.detail.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.detail.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.detail.verticalHeader().setVisible(False)
        dl.addWidget(self.detail)
        splitter.addWidget(detail)
        layout.addWidget(splitter)
        self.message = QLabel("")
        layout.addWidget(self.message)
        self.stale = StaleNote()
        layout.addWidget(self.stale)

        self.filter_edit.textChanged.connect(self._apply_filter)
        self.type_combo.currentIndexChanged.connect(self._apply_filter)
        self.start_button.clicked.connect(self.on_start)
        self.stop_button.clicked.connect(self.on_stop)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.on_select())
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(refresh_ms)

    def refresh(self) -> None:
        self.runner.refresh("agents", self.control.fleet.agents(), self._set_rows, self.stale.stale)

    def _set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.stale.fresh()
        selected = self.selected_agent()
        self.model.set_rows(rows)
        if selected:
            for r in range(self.proxy.rowCount()):
                if self.proxy.index(r, 0).data() == selected:
                    self.table.selectRow(r)

    def _apply_filter(self) -> None:
        self.proxy.set_filter(self.filter_edit.text(), self.type_combo.currentData())

    def selected_agent(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].data() if rows else None

    def on_select(self) -> None:
        agent = self.selected_agent()
        if agent:
            self.runner.run(self.control.fleet.agent_detail(agent), lambda d: self._show_detail(agent, d),
                            lambda m: self.message.setText(m))

    def _show_detail(self, agent: str, detail: dict[str, Any]) -> None:
        tasks = detail["tasks"]
        self.detail_label.setText(f"{agent}: {len(tasks)} recent tasks, {len(detail['errors'])} errors")
        self.detail.setRowCount(len(tasks))
        for i, t in enumerate(tasks):
            self.detail.setItem(i, 0, QTableWidgetItem(t["task_id"]))
            self.detail.setItem(i, 1, QTableWidgetItem(t["task_type"]))
            self.detail.setItem(i, 2, QTableWidgetItem(t["status"]))
            info = t["error"] or (f"{t['execution_time_seconds']:.1f} s" if t["execution_time_seconds"] else "")
            self.detail.setItem(i, 3, QTableWidgetItem(info))

    def on_start(self) -> None:
        agent_type = self.start_type.currentData()
        self.runner.run(self.control.fleet.start_instance(agent_type),
                        lambda agent_id: (self.message.setText(f"Started {agent_id}"), self.refresh()),
                        lambda m: self.message.setText(m))

    def on_stop(self) -> None:
        agent = self.selected_agent()
        if not agent:
            self.message.setText("Select an agent to stop.")
            return
        self.message.setText(f"Draining {agent}…")
        self.runner.run(self.control.fleet.stop_instance(agent),
                        lambda _r: (self.message.setText(f"Stopped {agent}"), self.refresh()),
                        lambda m: self.message.setText(m))


def _where(agent_id: str, row: dict[str, Any]) -> str:
    return f"{agent_id}\n" + ("runs in this process" if row["local"] else f"runs in pid {row['pid']}")
