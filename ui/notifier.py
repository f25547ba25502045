"""Desktop notifications: the system tray where the desktop has one, the status bar otherwise.

An alert that fires while the window is minimised or behind others must
still reach the person (issue 13), so it goes to the tray's balloon (the
desktop's notification service on most Linux desktops). Offscreen, under a
bare Xvfb or on a desktop without a tray there is none: the message then
stays in the window's status bar and in the log.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget


class DesktopNotifier:
    """Attributes:
        tray: the tray icon, or None where the desktop has no tray.
        sent: every (title, text) shown, newest last (the window's notification history).
    """

    def __init__(self, parent: QWidget, icon: QIcon, fallback: Callable[[str], None]) -> None:
        self.fallback = fallback
        self.sent: list[tuple[str, str]] = []
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, parent)
            self.tray.setToolTip(parent.windowTitle())
            self.tray.show()

    def notify(self, title: str, text: str) -> None:
        self.sent.append((title, text))
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 15_000)
        else:
            self.fallback(f"{title}: {text}")
