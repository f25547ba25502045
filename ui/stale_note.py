"""A line that says a view's figures are old, and since when, while its reads fail.

During a store outage a panel's refresh fails every second; before this
the Costs panel replaced its figures with the error and the others showed
the error beside figures that looked current. Now the figures stay as
they were and this line says how old they are and why (issue 28).
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QWidget

STALE_STYLE = "color: #b26a00;"


class StaleNote(QLabel):
    """Hidden while reads succeed; after a failure: "Figures from 14:02:11 (35 s old): <why>"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STALE_STYLE)
        self.setWordWrap(True)
        self.hide()
        self.last_fresh: float | None = None

    def fresh(self, *_: object) -> None:
        self.last_fresh = time.time()
        self.hide()

    def stale(self, why: str) -> None:
        if self.last_fresh is None:
            self.setText(f"No figures yet: {why}")
        else:
            age = time.time() - self.last_fresh
            self.setText(f"Figures from {time.strftime('%H:%M:%S', time.localtime(self.last_fresh))} "
                         f"({age:.0f} s old): {why}")
        self.setToolTip(why)
        self.show()
