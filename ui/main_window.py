"""The main window: a sidebar of five panels, menus, and a live status bar.

The window knows nothing of servers: it is told what to show
(``show_health``, ``show_progress``, ``show_error``) and says what the
user wants through its signals.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from app import __version__
from app.health import HealthReport
from app.paths import resources_dir
from ui.message_log import MessageLog
from ui.notifier import DesktopNotifier
from ui.panels.placeholder import PlaceholderPanel
from ui.status_bar import ElidedLabel, SandboxIndicator, ServiceIndicator

log = logging.getLogger(__name__)

# How long a warning holds the status line against routine messages (they still reach the log).
WARNING_HOLD_S = 10.0


def app_icon() -> QIcon:
    """The app's icon in every size we ship (the same files the .desktop entry names)."""
    icon = QIcon()
    for size in (48, 64, 128, 256):
        icon.addFile(str(resources_dir() / "icons" / f"aiwebtest-{size}.png"), QSize(size, size))
    return icon


PANELS: list[tuple[str, str]] = [
    (
        "Generate",
        "Point at a Python repository (a folder or a git URL), tick the files to cover, set a "
        "coverage target, say what matters to you, and generate pytest tests that are run, healed "
        "and measured.",
    ),
    (
        "Agents",
        "Live health of the six agents (Orchestration, Observation, Requirements, Analysis, "
        "Evolution, Reporting): status, capabilities, active tasks and heartbeats.",
    ),
    (
        "Costs",
        "Tokens against the daily budget, cost per hour and day, latency of Phase 2 against "
        "Phase 3, and error rates.",
    ),
    (
        "Rollout",
        "Move traffic between the single-shot Phase 2 path and the agents: mode, percentage, "
        "the sprint presets, alerts, and a one-click rollback.",
    ),
    (
        "Settings",
        "The execution settings and system configuration tables, editable with validation.",
    ),
]


class MainWindow(QMainWindow):
    """Top-level window.

    Signals:
        settings_requested: the user asked for the settings dialog.
        api_token_requested: the user asked to copy the REST API's token.
        diagnostics_requested(str): the user chose where to save a diagnostics zip.
        closing: the window is closing; the app should shut down.
    """

    settings_requested = Signal()
    api_token_requested = Signal()
    diagnostics_requested = Signal(str)
    closing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("AI Web Test Control Center")
        self.setMinimumSize(QSize(900, 560))
        self.resize(1180, 760)

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(170)
        self.sidebar.setStyleSheet(
            "QListWidget#sidebar { border: none; border-right: 1px solid palette(mid); "
            "padding-top: 8px; font-size: 11pt; }"
            "QListWidget#sidebar::item { padding-left: 16px; }"
        )
        self.stack = QStackedWidget()
        self.panels: dict[str, QWidget] = {}
        for index, (name, description) in enumerate(PANELS, start=1):
            item = QListWidgetItem(name)
            item.setToolTip(f"{name} (Ctrl+{index})")
            item.setSizeHint(QSize(150, 40))
            self.sidebar.addItem(item)
            panel = PlaceholderPanel(name, description)
            self.panels[name] = panel
            self.stack.addWidget(panel)
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index}"), self)
            shortcut.activated.connect(lambda i=index - 1: self.sidebar.setCurrentRow(i))
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sidebar.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self.setWindowIcon(app_icon())
        self.notifier = DesktopNotifier(self, app_icon(), self._hold_warning)
        self.postgres_indicator = ServiceIndicator("postgres")
        self.redis_indicator = ServiceIndicator("redis")
        self.vectors_indicator = ServiceIndicator("vectors")  # shown only when working memory uses Qdrant
        self.vectors_indicator.hide()
        self.sandbox_indicator = SandboxIndicator()
        self.message = ElidedLabel("Starting…")
        self.message.setObjectName("status-message")
        self.message_log = MessageLog(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.message_log)
        self.message_log.hide()
        self.messages_button = QToolButton()
        self.messages_button.setText("Messages")
        self.messages_button.setToolTip("Every message of this session, newest first (Ctrl+Shift+M)")
        self.messages_button.setCheckable(True)
        self.messages_button.toggled.connect(self.message_log.setVisible)
        self.message_log.visibilityChanged.connect(self.messages_button.setChecked)
        QShortcut(QKeySequence("Ctrl+Shift+M"), self).activated.connect(self.messages_button.toggle)
        self._warning_until = 0.0
        bar = self.statusBar()
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.messages_button)
        bar.addPermanentWidget(self.postgres_indicator)
        bar.addPermanentWidget(self.redis_indicator)
        bar.addPermanentWidget(self.vectors_indicator)
        bar.addPermanentWidget(self.sandbox_indicator)
        self._restore_state()

    # -- what the app tells the window -------------------------------------

    def show_health(self, report: HealthReport) -> None:
        self.postgres_indicator.show_health(report.postgres)
        self.redis_indicator.show_health(report.redis)
        if report.vectors is not None:  # a Qdrant that is down only costs recall: shown, not alarmed on
            self.vectors_indicator.show_health(report.vectors)
            self.vectors_indicator.show()
        self.sandbox_indicator.show_sandbox(report.sandbox, report.allow_unisolated)
        generate = self.panels.get("Generate")
        if report.sandbox is not None and hasattr(generate, "show_sandbox"):
            generate.show_sandbox(report.sandbox, report.allow_unisolated)
        if not report.all_up:
            down = [h for h in (report.postgres, report.redis) if not h.up]
            restarting = [h for h in down if (h.supervision or "").startswith("restarting")]
            text = "Lost " + " and ".join(_name(h.name) for h in down)
            if restarting:
                self.message.setText(text + "; restarting it, work waits…")
            else:
                self.message.setText(text + "; work waits, retrying every 2 s…")
        elif self.message.text().startswith("Lost"):
            self.message.setText("Reconnected")

    def show_alerts(self, alerts: list[Any], started: list[Any]) -> None:
        """A badge on each panel with firing alerts (count and tooltip), and a notification for each
        alert that has just started firing."""
        firing: dict[str, list[str]] = {}
        for alert in alerts:
            if alert.state == "firing":
                firing.setdefault(alert.panel, []).append(alert.message())
        for row, (name, _description) in enumerate(PANELS):
            item = self.sidebar.item(row)
            messages = firing.get(name, [])
            item.setText(f"{name}   ● {len(messages)}" if messages else name)
            item.setForeground(QColor("#d64545") if messages else self.sidebar.palette().text().color())
            item.setToolTip("\n".join(messages) if messages else f"{name} (Ctrl+{row + 1})")
        for alert in started:
            self.message_log.add("alert", alert.message())
            self.notifier.notify(f"Alert: {alert.name}", alert.message())

    def panel_badge(self, name: str) -> str:
        """The sidebar text of a panel (its badge when alerts fire there)."""
        row = [n for n, _ in PANELS].index(name)
        return self.sidebar.item(row).text()

    def show_progress(self, text: str) -> None:
        """An information: logged; in the status line unless a warning from the last seconds is there."""
        self.message_log.add("info", text)
        log.info("status: %s", text)  # the log file keeps what the window said
        if time.monotonic() >= self._warning_until:
            self._status(text, text)

    def _status(self, shown: str, whole: str, colour: str | None = None) -> None:
        self.message.show_text(shown, colour)
        self.message.setToolTip(whole)  # the whole text, even when the status bar cuts it

    def show_error(self, title: str, text: str) -> None:
        """A readable, non-blocking message box (no nested event loop)."""
        self.message_log.add("error", f"{title}: {text}")
        self._status(f"{title}: {text.splitlines()[0] if text else ''}", text)
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def install_panels(self, control: object, runner: object) -> None:
        """Replace the placeholders with the live panels once services are up."""
        from ui.panels.agents import AgentsPanel
        from ui.panels.costs import CostsPanel
        from ui.generate.panel import GeneratePanel
        from ui.panels.rollout import RolloutPanel
        from ui.panels.settings import SettingsPanel

        current = self.stack.currentIndex()
        built = {
            "Generate": GeneratePanel(control, runner),
            "Agents": AgentsPanel(control, runner),
            "Costs": CostsPanel(control, runner),
            "Rollout": RolloutPanel(control, runner),
            "Settings": SettingsPanel(control, runner),
        }
        for index, (name, _) in enumerate(PANELS):
            old = self.panels[name]
            self.stack.removeWidget(old)
            old.deleteLater()
            self.stack.insertWidget(index, built[name])
            self.panels[name] = built[name]
        self.stack.setCurrentIndex(current)
        built["Settings"].rollout_requested.connect(lambda: self.select_panel("Rollout"))
        built["Settings"].dialog_requested.connect(self.settings_requested)
        built["Generate"].restore_form()
        built["Generate"].message.connect(
            lambda level, text: self.show_status_error(text) if level == "warning" else self.show_progress(text))
        for panel in built.values():
            for method in ("refresh", "load", "refresh_history"):
                if hasattr(panel, method):
                    getattr(panel, method)()

    def stop_refreshing(self) -> None:
        """Stop the panels' timers (before the services shut down)."""
        for panel in self.panels.values():
            timer = getattr(panel, "timer", None)
            if timer is not None:
                timer.stop()

    def show_status_error(self, text: str) -> None:
        """A background failure: said in the status bar (held there for a while, so a routine message does
        not replace it at once) and kept in the message log, not in a dialog every 2 s."""
        self.message_log.add("warning", text)
        log.warning("status: %s", text)
        self._hold_warning(text)

    def _hold_warning(self, text: str) -> None:
        self._warning_until = time.monotonic() + WARNING_HOLD_S
        self._status(text, text, "#d64545")

    def current_panel(self) -> str:
        return PANELS[self.stack.currentIndex()][0]

    def select_panel(self, name: str) -> None:
        self.sidebar.setCurrentRow([p[0] for p in PANELS].index(name))

    # -- Qt overrides ----------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._save_state()
        self.closing.emit()
        event.accept()

    # -- internals -------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        settings = QAction("&Settings…", self)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.settings_requested)
        file_menu.addAction(settings)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.settings_action = settings

        help_menu = self.menuBar().addMenu("&Help")
        copy_token = QAction("Copy REST API &token", self)
        copy_token.setStatusTip("For curl and scripts: Authorization: Bearer <token>")
        copy_token.triggered.connect(self.api_token_requested)
        help_menu.addAction(copy_token)
        self.copy_token_action = copy_token
        diagnostics = QAction("Export &diagnostics…", self)
        diagnostics.setStatusTip("A zip of logs, versions, services and settings, secrets removed, for a bug report")
        diagnostics.triggered.connect(self._ask_diagnostics_path)
        help_menu.addAction(diagnostics)
        self.diagnostics_action = diagnostics
        about = QAction("&About", self)
        about.triggered.connect(self._show_about)
        help_menu.addAction(about)

    def _ask_diagnostics_path(self) -> None:
        """A non-modal save dialog (no nested event loop under qasync)."""
        import time

        from PySide6.QtCore import QStandardPaths
        from PySide6.QtWidgets import QFileDialog

        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        name = f"aiwebtest-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"
        dialog = QFileDialog(self, "Export diagnostics", f"{folder}/{name}", "Zip files (*.zip)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("zip")
        dialog.fileSelected.connect(self.diagnostics_requested)
        dialog.open()
        self._diagnostics_dialog = dialog

    def _show_about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "About AI Web Test Control Center",
            f"AI Web Test Control Center {__version__}\n\n"
            "Generates, runs and heals pytest tests with a multi-agent system "
            "on top of the Phase 2 three-tier execution engine.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.open()

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        panel = settings.value("main_window/panel")
        if isinstance(panel, str) and panel in self.panels:
            self.select_panel(panel)

    def _save_state(self) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/panel", self.current_panel())


def _name(service: str) -> str:
    return {"postgres": "PostgreSQL", "redis": "Redis"}.get(service, service)
