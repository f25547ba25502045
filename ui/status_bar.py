"""Status bar pieces: one live indicator per server, and a message area."""

from __future__ import annotations

from html import escape
from pathlib import PurePosixPath
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.health import Isolation, ServiceHealth

_COLORS = {"up": "#2e9e44", "down": "#d64545", "restarting": "#d99a1e", "unknown": "#8a8a8a"}
_LABELS = {"postgres": "PostgreSQL", "redis": "Redis", "vectors": "Qdrant"}


def short_where(where: str, limit: int = 26) -> str:
    """A server's place as the status bar shows it: a long path keeps its last two parts ("…/UIG/run"),
    the whole stays in the tooltip. The bar cut it to "/tmp/tmp.TE9v6CbUIG/run_" (issue 26)."""
    if len(where) <= limit or "/" not in where:
        return where
    parts = PurePosixPath(where).parts
    return "…/" + "/".join(parts[-2:]) if len(parts) > 2 else where


class ElidedLabel(QLabel):
    """A one-line message that ends in "…" where the bar is too narrow, the whole text in its tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.colour: str | None = None

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        """Plain text in the default colour (``show_text`` for a coloured one)."""
        self.show_text(text)

    def show_text(self, text: str, colour: str | None = None) -> None:
        self.colour = colour
        super().setText(text)
        self.setToolTip(text)
        self.update()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.setPen(QColor(self.colour) if self.colour else self.palette().windowText().color())
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)


class ServiceIndicator(QLabel):
    """A coloured dot, the server's name, its state and where it runs."""

    def __init__(self, service: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setObjectName(f"indicator-{service}")
        self.state = "unknown"
        self.setContentsMargins(10, 0, 10, 0)
        self._render("unknown", "starting…")

    def show_health(self, health: ServiceHealth) -> None:
        if health.up:
            latency = f"{health.latency_ms:.1f} ms" if health.latency_ms is not None else ""
            self.state = "up"
            self._render("up", f"up · {health.mode} · {short_where(health.where)}")
            restarted = f"\n{health.supervision}" if health.supervision not in (None, "up") else ""
            self.setToolTip(f"{_LABELS[self.service]} answered in {latency}\n{health.where}{restarted}")
        elif health.supervision and health.supervision.startswith("restarting"):
            self.state = "restarting"
            self._render("restarting", "restarting…")
            self.setToolTip(f"{_LABELS[self.service]} stopped; the app is starting it again: {health.supervision}.\n"
                            f"Work in progress waits for it. Last answer: {health.error}\n{health.where}")
        else:
            self.state = "down"
            self._render("down", f"down · {health.mode} · {short_where(health.where)}")
            why = f"\nSupervisor: {health.supervision}" if health.supervision else ""
            self.setToolTip(f"{_LABELS[self.service]} did not answer: {health.error}{why}\n{health.where}")

    def _render(self, state: str, text: str) -> None:
        self.setText(
            f'<span style="color:{_COLORS[state]}">●</span> '
            f"<b>{_LABELS[self.service]}</b> {escape(text)}"
        )


class SandboxIndicator(QLabel):
    """Whether code from a repository runs isolated: green with how, red with why not, amber when the
    user allowed running it without isolation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("indicator-sandbox")
        self.state = "unknown"
        self.setContentsMargins(10, 0, 10, 0)
        self._render("unknown", "checking…")

    def show_sandbox(self, sandbox: Isolation | None, allow_unisolated: bool) -> None:
        if sandbox is None:
            return
        if sandbox.available:
            self.state = "up"
            self._render("up", "isolated")
            self.setToolTip(f"Repository code runs in {sandbox.summary()}")
        elif allow_unisolated:
            self.state = "unisolated"
            self._render("unisolated", "NOT isolated")
            self.setToolTip(f"{sandbox.detail}\nRepository code runs without isolation because "
                            "execution_settings.allow_unisolated is on.")
        else:
            self.state = "down"
            self._render("down", "missing: code refused")
            self.setToolTip(sandbox.detail)

    def _render(self, state: str, text: str) -> None:
        color = {"unisolated": "#d08a00"}.get(state) or _COLORS[state]
        self.setText(f'<span style="color:{color}">●</span> <b>Sandbox</b> {escape(text)}')
