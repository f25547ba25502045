"""The window's messages, kept: the status line shows one at a time, this keeps them all.

Messages overwrote each other in the status line: the port warning was cut,
then replaced by "Settings saved"; "Saved 1 file(s)" replaced the result
summary (issue 14). Every message now also lands here, newest first, with
its time and level, in a dock the user opens from the status bar
(Messages button, Ctrl+Shift+M).
"""

from __future__ import annotations

import time

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

LEVEL_COLOURS = {"info": None, "warning": "#a35f00", "error": "#d64545", "alert": "#d64545"}
KEEP = 500


class MessageLog(QDockWidget):
    """Attributes:
        entries: (epoch, level, text), oldest first.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Messages", parent)
        self.setObjectName("messages")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.setWidget(self.list)
        self.entries: list[tuple[float, str, str]] = []

    def add(self, level: str, text: str) -> None:
        if self.entries and self.entries[-1][1:] == (level, text):
            return  # the same message again (a retry loop): once is enough
        now = time.time()
        self.entries.append((now, level, text))
        del self.entries[:-KEEP]
        item = QListWidgetItem(f"{time.strftime('%H:%M:%S', time.localtime(now))}  {level}: {text}")
        colour = LEVEL_COLOURS.get(level)
        if colour:
            item.setForeground(QColor(colour))
        self.list.insertItem(0, item)
        while self.list.count() > KEEP:
            self.list.takeItem(self.list.count() - 1)

    def texts(self) -> list[str]:
        return [text for _, _, text in self.entries]
