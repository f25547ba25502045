"""History: past requests by either route, from any front end (window, CLI, API), newest first.

The model holds the rows; the proxy filters by verdict and text (house
style 3); the view only lays them out.

Signals:
    open_requested(str): a request was double-clicked (its task id).
    refresh_requested(): Refresh was pressed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.outcome import COLOURS


class HistoryModel(QStandardItemModel):
    """Past requests; filtering by status and text lives in the proxy below."""

    COLUMNS = ["When", "Repository", "Files", "Route", "Status", "Coverage"]

    def __init__(self) -> None:
        super().__init__(0, len(self.COLUMNS))
        self.setHorizontalHeaderLabels(self.COLUMNS)

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.removeRows(0, self.rowCount())
        for r in rows:
            cells = [r["created_at"].strftime("%Y-%m-%d %H:%M"), r["repository"], ", ".join(r["files"]),
                     r["route"], r["status"], f"{r['coverage']:.0%}" if r["coverage"] is not None else "–"]
            items = [QStandardItem(c) for c in cells]
            for item in items:
                item.setEditable(False)
                item.setData(r["task_id"], Qt.ItemDataRole.UserRole)
            items[1].setToolTip(r["repository"])
            items[2].setToolTip(", ".join(r["files"]))
            items[4].setForeground(QColor(COLOURS.get(r["status"], "#6b6b6b")))
            self.appendRow(items)


class HistoryFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.status = ""
        self.text = ""

    def set_filter(self, status: str, text: str) -> None:
        self.beginFilterChange()
        self.status, self.text = status, text.lower()
        self.endFilterChange()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 (Qt override)
        model = self.sourceModel()
        status = model.index(row, 4, parent).data()
        haystack = f"{model.index(row, 1, parent).data()} {model.index(row, 2, parent).data()}".lower()
        return (not self.status or status == self.status) and (not self.text or self.text in haystack)


class HistoryView(QWidget):
    open_requested = Signal(str)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.status_filter = QComboBox()
        self.status_filter.addItems(["All", "completed", "partial", "failed", "running"])
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Filter by repository or file")
        self.refresh_button = QPushButton("Refresh")
        filters.addWidget(self.status_filter)
        filters.addWidget(self.text_filter, 1)
        filters.addWidget(self.refresh_button)
        box.addLayout(filters)
        self.model = HistoryModel()
        self.proxy = HistoryFilter()
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSortingEnabled(True)
        # Short columns take what their text needs; the repository and the files share the rest, elided
        # in the middle with the whole value in the tooltip (History's columns were cut at 1180x760).
        header = self.view.horizontalHeader()
        for column in range(len(HistoryModel.COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        # A long path keeps both ends ("/tmp/…/newco/repo"), the whole in its tooltip: "/tmp/ newco…" said nothing.
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setWordWrap(False)
        self.view.setToolTip("Double-click a request to open its result")
        box.addWidget(self.view)
        self.status_filter.currentTextChanged.connect(self._apply_filter)
        self.text_filter.textChanged.connect(self._apply_filter)
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.view.doubleClicked.connect(lambda index: self.open_requested.emit(index.data(Qt.ItemDataRole.UserRole)))

    def _apply_filter(self) -> None:
        status = self.status_filter.currentText()
        self.proxy.set_filter("" if status == "All" else status, self.text_filter.text())
