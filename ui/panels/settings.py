"""Settings: ``execution_settings`` and ``system_config``, edited in place.

Edits stay in the tables until saved; a bad value is refused with the key
and the reason, and nothing typed is lost. Revert reloads what is stored.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from ui.async_bridge import AsyncRunner

_EDITED = QColor("#fff3c4")


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    return table


class SettingsPanel(QWidget):
    """Signals:
        saved(): everything edited was stored.
    """

    saved = Signal()

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-settings")
        self.control = control
        self.runner = runner
        self._loading = False
        self.stored_exec: dict[str, Any] = {}
        self.stored_config: dict[str, str] = {}
        layout = QVBoxLayout(self)
        exec_box = QGroupBox("execution_settings (Phase 2 engine; agents read the same row)")
        el = QVBoxLayout(exec_box)
        self.exec_table = _table(["Setting", "Value"])
        self.exec_table.setObjectName("execution-settings")
        el.addWidget(self.exec_table)
        layout.addWidget(exec_box, 2)
        conf_box = QGroupBox("system_config (run-time settings, every process)")
        cl = QVBoxLayout(conf_box)
        self.config_table = _table(["Key", "Value"])
        self.config_table.setObjectName("system-config")
        cl.addWidget(self.config_table)
        layout.addWidget(conf_box, 3)
        bar = QHBoxLayout()
        self.message = QLabel("")
        self.message.setObjectName("settings-message")
        self.message.setWordWrap(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard edits and reload what is stored")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Store the edited values (Ctrl+S)")
        bar.addWidget(self.message, 1)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        layout.addLayout(bar)
        self.exec_table.itemChanged.connect(self._mark)
        self.config_table.itemChanged.connect(self._mark)
        self.save_button.clicked.connect(self.on_save)
        self.revert_button.clicked.connect(self.load)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.on_save)

    def load(self) -> None:
        async def fetch() -> tuple[dict[str, Any], dict[str, str]]:
            return await self.control.execution_settings(), await self.control.system_config()

        self.runner.run(fetch(), self._fill, self._error)

    def _fill(self, data: tuple[dict[str, Any], dict[str, str]]) -> None:
        self.stored_exec, self.stored_config = data
        self._loading = True
        for table, values in ((self.exec_table, self.stored_exec), (self.config_table, self.stored_config)):
            table.setRowCount(len(values))
            for i, (key, value) in enumerate(values.items()):
                name = QTableWidgetItem(key)
                name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
                table.setItem(i, 0, name)
                table.setItem(i, 1, QTableWidgetItem(str(value)))
        self._loading = False
        self.message.setText("")

    def _mark(self, item: QTableWidgetItem) -> None:
        if not self._loading and item.column() == 1:
            item.setBackground(_EDITED)

    def edits(self) -> tuple[dict[str, str], dict[str, str]]:
        def changed(table: QTableWidget, stored: dict[str, Any]) -> dict[str, str]:
            out = {}
            for r in range(table.rowCount()):
                key, value = table.item(r, 0).text(), table.item(r, 1).text()
                if value != str(stored.get(key)):
                    out[key] = value
            return out

        return changed(self.exec_table, self.stored_exec), changed(self.config_table, self.stored_config)

    def set_value(self, key: str, value: str) -> None:
        for table in (self.exec_table, self.config_table):
            for r in range(table.rowCount()):
                if table.item(r, 0).text() == key:
                    table.item(r, 1).setText(value)
                    return
        raise KeyError(key)

    def on_save(self) -> None:
        exec_changes, config_changes = self.edits()
        if not exec_changes and not config_changes:
            self.message.setText("Nothing changed.")
            return

        async def store() -> None:
            if exec_changes:
                await self.control.update_execution_settings(exec_changes)
            for key, value in config_changes.items():
                await self.control.set_system_config(key, value)

        self.runner.run(store(), lambda _r: (self.load(), self.saved.emit()), self._error)

    def _error(self, message: str) -> None:
        # The edits stay in the table: nothing typed is lost.
        self.message.setText(f'<span style="color:#d64545">Not saved: {message}</span>')
