"""Save generated tests: the exact paths, what each would do to what is there, and the diff.

Non-modal (no nested event loop under qasync). The default never loses
anything: a file that differs from one already there is saved under a
fresh name unless the user picks "Overwrite".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton, QRadioButton,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

STATE_TEXT = {"new": ("new file", "#2e7d32"), "same": ("already there, identical: left alone", "#8a8a8a"),
              "differs": ("exists and differs", "#a35f00")}


class SaveDialog(QDialog):
    """Signals:
        save_requested(bool): save, overwriting files that differ (True) or under fresh names (False).
        folder_requested(): the user wants another folder.
    """

    save_requested = Signal(bool)
    folder_requested = Signal()

    def __init__(self, targets: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save the generated tests")
        self.setMinimumWidth(760)
        self.targets = targets
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("These files will be written:"))
        self.table = QTableWidget(len(targets), 3)
        self.table.setHorizontalHeaderLabels(["Path", "", ""])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, target in enumerate(targets):
            self.table.setItem(row, 0, QTableWidgetItem(str(target.path)))
            text, colour = STATE_TEXT[target.state]
            state = QTableWidgetItem(text)
            state.setForeground(QColor(colour))
            self.table.setItem(row, 1, state)
            if target.state == "differs":
                button = QPushButton("Diff")
                button.clicked.connect(lambda _c=False, t=target: self.show_diff(t))
                self.table.setCellWidget(row, 2, button)
        layout.addWidget(self.table)
        differs = [t for t in targets if t.state == "differs"]
        self.fresh = QRadioButton("Keep the existing files; save these as "
                                  + ", ".join(t.fresh_path.name for t in differs) if differs else "")
        self.overwrite = QRadioButton("Overwrite the existing files")
        self.fresh.setChecked(True)
        for radio in (self.fresh, self.overwrite):
            radio.setVisible(bool(differs))
            layout.addWidget(radio)
        self.diff_view = QPlainTextEdit()
        self.diff_view.setReadOnly(True)
        self.diff_view.setObjectName("diff")
        self.diff_view.setVisible(False)
        layout.addWidget(self.diff_view, 1)
        row = QHBoxLayout()
        self.folder_button = QPushButton("Another folder…")
        self.folder_button.clicked.connect(lambda: (self.folder_requested.emit(), self.close()))
        row.addWidget(self.folder_button)
        row.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(lambda: (self.save_requested.emit(self.overwrite.isChecked()), self.accept()))
        self.buttons.rejected.connect(self.reject)
        row.addWidget(self.buttons)
        layout.addLayout(row)
        if all(t.state == "same" for t in targets):
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)

    def show_diff(self, target: Any) -> None:
        self.diff_view.setPlainText(target.diff())
        self.diff_view.setVisible(True)
