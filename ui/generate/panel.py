"""Generate: pick a repository and files, set a target, generate, watch, save.

The panel composes the form, the progress view, the result view and
History, and talks to the Generate feature's services through the
``ControlCenter`` handed in (``control.generation``: submit, follow,
cancel, history, estimate; ``control.results``: outline, run, save).

Signals:
    result_shown(str): a request's result is on screen (its task id).
    message(str, str): (level, text) for the window's status line and message log.
"""

from __future__ import annotations

import asyncio
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.outcome import of_state
from ui.async_bridge import AsyncRunner
from ui.generate.form import GenerateForm
from ui.generate.history import HistoryView
from ui.generate.progress import ProgressView
from ui.generate.result_text import verdict_header
from ui.generate.result_view import ResultView

BANNER_REFUSED = "background:#fde8e8;color:#7a1010;border:1px solid #d64545;padding:6px;border-radius:4px"
BANNER_UNISOLATED = "background:#fff4d6;color:#6b4a00;border:1px solid #d08a00;padding:6px;border-radius:4px"


class GeneratePanel(QWidget):
    result_shown = Signal(str)
    message = Signal(str, str)

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-generate")
        self.control = control
        self.runner = runner
        self.repository: Path | None = None
        self.loaded_files: list[Any] = []  # the loaded repository's files (RepoFile), for the plan's estimate
        self.current_task: str | None = None
        self._watch: asyncio.Task[Any] | None = None
        self._build()

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        # Shown only when repository code cannot be isolated (engine/isolation.py): why, and the way out.
        self.sandbox_banner = QLabel("")
        self.sandbox_banner.setObjectName("sandbox-banner")
        self.sandbox_banner.setWordWrap(True)
        self.sandbox_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sandbox_banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.sandbox_banner.hide()
        outer.addWidget(self.sandbox_banner)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter, 1)  # the banner takes only the height of its text

        left = QWidget()
        left_box = QVBoxLayout(left)
        self.form = GenerateForm()
        left_box.addWidget(self.form, 2)
        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate tests (Ctrl+Return)")
        self.generate_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel the running request (Esc)")
        self.cancel_button.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.generate_button)
        left_box.addLayout(buttons)
        self.progress_view = ProgressView()
        left_box.addWidget(self.progress_view, 1)
        splitter.addWidget(left)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("result-tabs")
        self.result_view = ResultView(self._results(), self.runner)
        self.tabs.addTab(self.result_view, "Result")
        self.history = HistoryView()
        self.history_tab_index = self.tabs.addTab(self.history, "History")
        splitter.addWidget(self.tabs)
        splitter.setSizes([430, 650])

        self.form.load_requested.connect(self.on_load_requested)
        self.form.targets_changed.connect(self._refresh_plan)
        self.generate_button.clicked.connect(self.on_generate)
        self.cancel_button.clicked.connect(self.on_cancel)
        self.result_view.message.connect(self.message)
        self.history.refresh_requested.connect(self.refresh_history)
        self.history.open_requested.connect(self.on_history_open)
        self.tabs.currentChanged.connect(self.on_tab_changed)
        QShortcut(QKeySequence("F5"), self, activated=self.result_view.on_run_tests)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.form.focus_repository)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.on_generate)
        QShortcut(QKeySequence("Escape"), self, activated=self.on_cancel)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.result_view.on_save)

    def _results(self) -> Any:
        """The results service, or None for a stand-in control that has none (nothing acts on results)."""
        return getattr(self.control, "results", None)

    # -- repository -------------------------------------------------------------

    def on_load_requested(self, url: str) -> None:
        self._say(f"Loading {url}…")
        self.runner.run(self.control.generation.inspect_repository(url), self._show_files, self._load_failed)

    def _load_failed(self, text: str) -> None:
        self.form.show_error("repository_url", text)
        self._say_error(text)

    def _show_files(self, loaded: tuple[Path, list[Any]]) -> None:
        self.repository, files = loaded
        self.loaded_files = list(files)
        self.result_view.fallback_folder = self.repository
        self.form.show_files(files)
        self._say(f"Loaded {self.repository}: {len(files)} Python files.")
        self._refresh_plan()

    def restore_form(self) -> None:
        if self.form.restore():
            self.form.on_load()

    def _refresh_plan(self) -> None:
        files = self.form.checked_files() if not self.form.whole_check.isChecked() else [
            f.path for f in self.loaded_files if not f.is_test]  # at most: every module may be one
        self.runner.run(self.control.generation.estimate(self.repository, files), self._show_plan, lambda _m: None)

    def _show_plan(self, plan: dict[str, Any]) -> None:
        if plan["model"]:
            cost = "cost unknown" if plan["max_cost_usd"] is None else f"${plan['max_cost_usd']:.4f}"
            self.form.plan_label.setText(f"{plan['strategy']} strategy with {plan['model']}: at most "
                                         f"{plan['max_tokens']:,} tokens, {cost}. {plan['note']}")
        else:
            self.form.plan_label.setText(f"{plan['strategy']} strategy, no token cost. {plan['note']}")

    # -- generation -------------------------------------------------------------

    def on_generate(self, confirmed: bool = False) -> None:
        if self.current_task is not None:
            return
        request = self.form.request(self.repository)
        if request is None:  # the form says why, next to the field
            return
        if not confirmed and self._target_met_on_screen(request.target_files, request.coverage_target):
            self._ask_before_generating_again(request.coverage_target)
            return
        self.form.remember()
        self.progress_view.start(request.estimated_s, request.coverage_target)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.current_task = "submitting"
        self.runner.run(self.control.generation.submit(request), self._on_submitted, self._on_submit_failed)

    def _target_met_on_screen(self, files: list[str], target: float) -> bool:
        """The result on screen is for these files, reached the target and was not saved: generating again
        made 14 more tests for nothing (issue 14)."""
        result = self.result_view.current_result or {}
        covered = {f["path"] for f in result.get("coverage_by_file") or []}
        return (bool(result.get("files")) and not self.result_view.saved_paths and covered == set(files)
                and str(self.repository) == str(result.get("repository") or "")
                and float(result.get("coverage_estimate") or 0) >= target)

    def _ask_before_generating_again(self, target: float) -> None:
        reached = (self.result_view.current_result or {}).get("coverage_estimate", 0)
        box = QMessageBox(
            QMessageBox.Icon.Question, "The target is already met",
            f"The tests on screen already reach {reached:.0%} for these files (target {target:.0%}). They are "
            "not saved yet, so another request would generate the same ground again. Save them (Ctrl+S), or "
            "generate more anyway?", QMessageBox.StandardButton.Cancel, self)
        anyway = box.addButton("Generate anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _code: self.on_generate(confirmed=True) if box.clickedButton() is anyway else None)
        box.open()
        self._met_box = box

    def show_sandbox(self, sandbox: Any, allow_unisolated: bool) -> None:
        """The banner: hidden while code is isolated; red when refused; amber while allowed without."""
        if sandbox.available:
            self.sandbox_banner.hide()
            return
        if allow_unisolated:
            text = (f"Repository code runs WITHOUT isolation: {sandbox.detail}. It can read your files and "
                    "secrets. Turn allow_unisolated off in Settings once the sandbox works.")
            style = BANNER_UNISOLATED
        else:
            text = (f"Generation is refused: code from the repository cannot be isolated here ({sandbox.detail}). "
                    "Install it, or set allow_unisolated to true in Settings to run it anyway.")
            style = BANNER_REFUSED
        if self.sandbox_banner.text() != text:
            self.sandbox_banner.setText(text)
            self.sandbox_banner.setStyleSheet(style)
        self.sandbox_banner.show()

    def _on_submit_failed(self, message: str) -> None:
        """Submitting or following failed (a store away past the retries): the form is usable again."""
        self.current_task = None
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_view.finish(failed=True)
        self._say_error(message)

    def _on_submitted(self, submitted: dict[str, Any]) -> None:
        self.current_task = submitted["task_id"]
        self.progress_view.append(f"Request {submitted['task_id']} → {submitted['route']} ({submitted['reason']})")
        if submitted["route"] == "phase2":  # it sends no step events: its bar runs by time from here
            self.progress_view.on_event("phase2", {"message": "Phase 2 single-shot path: one generation pass, "
                                                              "executed once…"})
        combo = self.form.conversation_combo
        if combo.findData(submitted["conversation_id"]) < 0:
            combo.addItem(f"{submitted['conversation_id']} ({self.repository.name})", submitted["conversation_id"])
        follow = self.control.generation.follow(submitted["task_id"], self.progress_view.on_event)
        self._watch = self.runner.run(follow, self.finished, self._on_submit_failed)

    def on_progress_event(self, agent: str, event: dict[str, Any]) -> None:
        self.progress_view.on_event(agent, event)

    def finished(self, state: dict[str, Any]) -> None:
        """The request ended: its result (a cancel keeps what was kept), or why it failed."""
        self.current_task = None
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        verdict = of_state(state)
        self.progress_view.finish(failed=verdict.kind == "failed")
        if state["status"] == "completed" or verdict.kind == "partial":
            self.show_result(state)
        else:
            self.progress_view.append(f"Failed: {verdict.reason}")
            self.result_view.show_failure(verdict_header(verdict))  # the window's status line says it too
            self.message.emit("warning", f"Generation failed: {verdict.reason}")
        self.refresh_history()

    def on_cancel(self) -> None:
        task = self.current_task
        if not task or task == "submitting":
            return
        self.progress_view.append("Cancelling…")
        self.runner.run(self.control.generation.cancel(task), lambda _r: None, self._say_error)

    def show_result(self, state: dict[str, Any]) -> None:
        self.result_view.show_state(state)
        self.tabs.setCurrentIndex(0)
        self.result_shown.emit(state["task_id"])

    # -- history ----------------------------------------------------------------

    def on_tab_changed(self, index: int) -> None:
        # Requests also come from the REST API and the CLI; History showed none of them until
        # Refresh was pressed (found with the real window under Xvfb, 14 API requests in).
        if index == self.history_tab_index:
            self.refresh_history()

    def refresh_history(self) -> None:
        self.runner.run(self.control.generation.history(), self.history.model.set_rows, lambda _m: None)

    def on_history_open(self, task_id: str) -> None:
        """A past request: its result (or why it failed) and its whole run log, as it was kept."""
        self.runner.run(self.control.generation.status(task_id), self._open_state, self._say_error)
        self.runner.run(self.control.generation.run_log(task_id), self.progress_view.show_log, self._say_error)

    def _open_state(self, state: dict[str, Any] | None) -> None:
        if state is None:
            return
        verdict = of_state(state)
        if state["status"] == "completed" or verdict.kind == "partial":
            self.show_result(state)
        else:
            self.result_view.show_failure(verdict_header(verdict))

    # -- messages ---------------------------------------------------------------

    def _say(self, text: str) -> None:
        """Said under the form while there is no result; once a result is shown, to the window (the
        summary is the result's, and "Saved 1 file(s)" replaced it: issue 14)."""
        if self.result_view.current_result is None:
            self.result_view.summary.setText(escape(text))
        self.message.emit("info", text)

    def _say_error(self, text: str) -> None:
        if self.result_view.current_result is None:
            self.result_view.summary.setText(f'<span style="color:#d64545">{escape(text)}</span>')
        self.message.emit("warning", text)
