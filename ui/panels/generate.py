"""Generate: pick a repository and files, set a target, generate, watch, save.

Everything goes through the ``ControlCenter`` handed in; this module only
lays out widgets and reacts.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from agents.plan import DEFAULT_PLAN, GenerationPlan
from agents.task_stop import cancel_and_wait
from app.generation import GenerateRequest
from app.outcome import COLOURS, Outcome, of_state
from ui.async_bridge import AsyncRunner
from ui.highlighter import PythonHighlighter
from ui.save_dialog import SaveDialog

STEPS = ["orchestration", "observation", "requirements", "analysis", "evolution", "reporting"]
PROGRESS_SCALE = 1000
# Share of the bar before evolution starts, and where it stops until the result arrives.
BEFORE_EVOLVE, BEFORE_RESULT = 0.1, 0.95
OVERHEAD_S = 25.0  # checkout, baseline, environment, keep-per-test reruns beyond the search budget


def estimate_s(plan: GenerationPlan) -> float:
    """How long a request should take: its search budget bounds the generation, the mutation score is
    time-boxed to a fifth of it (15-120 s), and the rest is steady overhead."""
    mutation = min(120.0, max(15.0, 0.2 * plan.search_time_s)) if plan.mutation_score else 0.0
    return plan.search_time_s + mutation + OVERHEAD_S


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class RunProgress:
    """What the panel knows of the running request."""

    started: float
    estimate_s: float
    target: float
    step: str = ""
    coverage: float | None = None
    evolving: float = 0.0  # monotonic time the generation started
    model: str = ""  # the model's answer so far ("model x: 312 tokens, 8.4 tokens/s") while one streams


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


def _spent_line(state: dict[str, Any], result: dict[str, Any]) -> str:
    """What a run that kept nothing still spent on the model: its tokens were used all the same."""
    tokens = int(state.get("token_usage") or result.get("token_usage") or 0)
    if not tokens:
        return ""
    cost = float(result.get("cost_usd") or 0)
    price = escape(result["cost_note"]) if result.get("cost_note") and not cost else f"${cost:.4f}"
    return f"Spent {tokens:,} tokens · {price}<br>"


def _mutation_line(result: dict[str, Any]) -> str:
    """Coverage alone lies: how many mutants of the code the kept tests notice."""
    mutation = result.get("mutation") or {}
    if mutation.get("score") is None:
        return f" · mutation score: {escape(mutation['error'])}" if mutation.get("error") else ""
    return (f" · mutation score <b>{mutation['score']:.0%}</b> ({mutation['killed']}/{mutation['total']}"
            f"{', time-boxed' if mutation.get('timed_out') else ''})")


def _generators_line(result: dict[str, Any]) -> str:
    """What each generator contributed: "doctest 2 kept · pynguin mio 0 (why)".

    The llm loop's prompts (one per function, and their repairs) count as
    one generator, "llm", with how many prompts it took.
    """
    totals: dict[str, list[Any]] = {}
    for g in result.get("generators") or []:
        name = "llm" if g["generator"].startswith("llm") else g["generator"]
        entry = totals.setdefault(name, [0, "", 0, 0.0])
        entry[0] += int(g.get("kept_tests") or 0)
        if g.get("error") and not entry[1]:
            entry[1] = str(g["error"])
        entry[2] += 1
        entry[3] = max(entry[3], float(g.get("seconds") or 0))
    if not totals:
        return ""
    parts = []
    for name, (kept, why, tries, seconds) in totals.items():
        part = f"{escape(name)} <b>{kept}</b> kept"
        if name == "llm" and tries > 1:
            part += f" ({tries} prompts)"
        if seconds:
            part += f' <span style="color:#777">{seconds:.0f} s</span>'
        if not kept and why:
            part += f' <span style="color:#777" title="{escape(why)}">(nothing kept)</span>'
        parts.append(part)
    polish = result.get("polish") or {}
    rewritten = sum(1 for v in polish.values() if v.startswith("names and docstrings"))
    tail = f"<br>Readability pass by the model: {rewritten} of {len(polish)} file(s) rewritten" if polish else ""
    return "<br>Generators: " + " · ".join(parts) + tail


def verdict_header(verdict: Outcome) -> str:
    """The first line of a result: completed / partial / failed and why, in the colours used everywhere."""
    return (f'<span style="color:{verdict.colour}; font-size:12pt"><b>{verdict.label}</b></span>'
            + (f'<span style="color:{verdict.colour}">: {escape(verdict.reason)}</span>' if verdict.reason else ""))


class GeneratePanel(QWidget):
    """Signals:
        result_shown(str): a request's result is on screen (its task id).
        message(str, str): (level, text) for the window's status line and message log.
    """

    result_shown = Signal(str)
    message = Signal(str, str)

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-generate")
        self.control = control
        self.runner = runner
        self.repository: Path | None = None
        self.current_task: str | None = None
        self.current_result: dict[str, Any] | None = None
        self._watch: asyncio.Task[Any] | None = None
        self._restore_targets: list[str] = []
        self._run: RunProgress | None = None
        self._build()

    # -- layout -----------------------------------------------------------------

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
        form_box = QVBoxLayout(left)
        repo_row = QHBoxLayout()
        self.repo_edit = QLineEdit()
        self.repo_edit.setPlaceholderText("Folder or git URL, e.g. https://github.com/org/repo.git")
        self.repo_edit.setToolTip("A folder on this machine or a git URL (cloned shallow)")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose a folder")
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("List the repository's Python files (Enter)")
        repo_row.addWidget(self.repo_edit, 1)
        repo_row.addWidget(self.browse_button)
        repo_row.addWidget(self.load_button)
        form_box.addLayout(repo_row)

        self.files_model = QStandardItemModel()
        self.files_model.setHorizontalHeaderLabels(["Python files (tick the targets; tests are greyed)"])
        self.files_view = QTreeView()
        self.files_view.setModel(self.files_model)
        self.files_view.setObjectName("files")
        form_box.addWidget(self.files_view, 1)

        form = QFormLayout()
        target_row = QHBoxLayout()
        self.target_slider = QSlider(Qt.Orientation.Horizontal)
        self.target_slider.setRange(0, 100)
        self.target_spin = QDoubleSpinBox()
        self.target_spin.setRange(0.0, 1.0)
        self.target_spin.setSingleStep(0.05)
        self.target_spin.setDecimals(2)
        # The box's value counts once typing is done (Enter, Tab, focus out): with every keystroke
        # counted, "0" went to the slider and came back as "0.00" under the cursor, and "0.80" ended as
        # 0.00 (issue 14). Each side sets the other only when the value really differs.
        self.target_spin.setKeyboardTracking(False)
        self.target_slider.valueChanged.connect(self._slider_moved)
        self.target_spin.valueChanged.connect(self._target_typed)
        self.target_spin.setValue(DEFAULT_PLAN.coverage_target)
        target_row.addWidget(self.target_slider, 1)
        target_row.addWidget(self.target_spin)
        form.addRow("Coverage target:", target_row)
        self.requirements_edit = QPlainTextEdit()
        self.requirements_edit.setPlaceholderText("What matters to you, e.g. edge cases of clamp, error handling")
        self.requirements_edit.setFixedHeight(64)
        form.addRow("Requirements:", self.requirements_edit)
        self.conversation_combo = QComboBox()
        self.conversation_combo.setEditable(False)
        self.conversation_combo.addItem("New request", None)
        self.conversation_combo.setToolTip("Follow up on an earlier request: the agents recall what they learned")
        form.addRow("Follow-up on:", self.conversation_combo)
        self.plan_label = QLabel("Load a repository to see the strategy and cost.")
        self.plan_label.setWordWrap(True)
        form.addRow("Plan:", self.plan_label)
        form_box.addLayout(form)

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
        form_box.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_SCALE)
        self.progress.setValue(0)
        self.progress.setFormat("")
        form_box.addWidget(self.progress)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progress-label")
        form_box.addWidget(self.progress_label)
        # What each generator kept, per file, as it happens; below it the full log. Both resize.
        lower = QSplitter(Qt.Orientation.Vertical)
        self.generators_table = QTableWidget(0, 4)
        self.generators_table.setObjectName("generators")
        self.generators_table.setHorizontalHeaderLabels(["File", "Generator", "Kept", "Time"])
        self.generators_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.generators_table.verticalHeader().setVisible(False)
        self.generators_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.generators_table.setMinimumHeight(60)
        lower.addWidget(self.generators_table)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setObjectName("log")
        self.log.setPlaceholderText("Progress of each agent step appears here.")
        self.log.setMinimumHeight(110)
        lower.addWidget(self.log)
        lower.setSizes([90, 180])
        form_box.addWidget(lower, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)
        splitter.addWidget(left)

        right = QTabWidget()
        right.setObjectName("result-tabs")
        result = QWidget()
        rl = QVBoxLayout(result)
        self.summary = QLabel("No result yet.")
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        rl.addWidget(self.summary)
        self.coverage_table = QTableWidget(0, 4)
        self.coverage_table.setHorizontalHeaderLabels(["File", "Line coverage", "Branches", "Tier"])
        self.coverage_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.coverage_table.verticalHeader().setVisible(False)
        self.coverage_table.setMaximumHeight(150)
        rl.addWidget(self.coverage_table)
        self.tests_view = QPlainTextEdit()
        self.tests_view.setReadOnly(True)
        self.tests_view.setObjectName("tests")
        self.tests_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = self.tests_view.font()
        font.setFamily("monospace")
        self.tests_view.setFont(font)
        self.highlighter = PythonHighlighter(self.tests_view.document())
        # IDE-like: file → function (its coverage) → tests; a click shows that test's code.
        self.outline = QTreeWidget()
        self.outline.setObjectName("outline")
        self.outline.setHeaderLabels(["Tests by function", "Coverage"])
        self.outline.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.outline.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.outline.itemActivated.connect(self.on_outline_item)
        self.outline.itemClicked.connect(self.on_outline_item)
        code_split = QSplitter(Qt.Orientation.Horizontal)
        code_split.addWidget(self.outline)
        code_split.addWidget(self.tests_view)
        code_split.setSizes([300, 480])
        rl.addWidget(code_split, 1)
        actions = QHBoxLayout()
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Review the exact paths and any difference, then write (Ctrl+S); "
                                    "never overwrites without asking")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy all tests to the clipboard")
        self.open_button = QPushButton("Open folder")
        self.run_button = QPushButton("Run these tests")
        self.run_button.setToolTip("Run the generated tests as they are, in the sandbox, and show pass/fail (F5)")
        self.editor_button = QPushButton("Open in editor")
        self.editor_button.setToolTip("Open the saved files in the system's default editor")
        for b in (self.save_button, self.copy_button, self.open_button, self.run_button, self.editor_button):
            b.setEnabled(False)
            actions.addWidget(b)
        actions.addStretch(1)
        rl.addLayout(actions)
        self.run_label = QLabel("")
        self.run_label.setObjectName("run-result")
        self.run_label.setWordWrap(True)
        rl.addWidget(self.run_label)
        self.saved_paths: list[Path] = []
        right.addTab(result, "Result")

        history = QWidget()
        hl = QVBoxLayout(history)
        filters = QHBoxLayout()
        self.status_filter = QComboBox()
        self.status_filter.addItems(["All", "completed", "partial", "failed", "running"])
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Filter by repository or file")
        self.refresh_history_button = QPushButton("Refresh")
        filters.addWidget(self.status_filter)
        filters.addWidget(self.text_filter, 1)
        filters.addWidget(self.refresh_history_button)
        hl.addLayout(filters)
        self.history_model = HistoryModel()
        self.history_proxy = HistoryFilter()
        self.history_proxy.setSourceModel(self.history_model)
        self.history_view = QTableView()
        self.history_view.setModel(self.history_proxy)
        self.history_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setSortingEnabled(True)
        self.history_view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        # A long path keeps both ends ("/tmp/…/newco/repo"), the whole in its tooltip: "/tmp/ newco…" said nothing.
        self.history_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.history_view.setWordWrap(False)
        self.history_view.setToolTip("Double-click a request to open its result")
        hl.addWidget(self.history_view)
        self.history_tab_index = right.addTab(history, "History")
        self.tabs = right
        splitter.addWidget(right)
        splitter.setSizes([430, 650])

        self.browse_button.clicked.connect(self.on_browse)
        self.load_button.clicked.connect(self.on_load)
        self.repo_edit.returnPressed.connect(self.on_load)
        self.generate_button.clicked.connect(self.on_generate)
        self.cancel_button.clicked.connect(self.on_cancel)
        self.save_button.clicked.connect(self.on_save)
        self.copy_button.clicked.connect(self.on_copy)
        self.open_button.clicked.connect(self.on_open_folder)
        self.run_button.clicked.connect(self.on_run_tests)
        self.editor_button.clicked.connect(self.on_open_in_editor)
        QShortcut(QKeySequence("F5"), self, activated=self.on_run_tests)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.focus_repository)
        self.files_model.itemChanged.connect(lambda _i: self._refresh_plan())
        self.status_filter.currentTextChanged.connect(self._apply_filter)
        self.text_filter.textChanged.connect(self._apply_filter)
        self.refresh_history_button.clicked.connect(self.refresh_history)
        self.tabs.currentChanged.connect(self.on_tab_changed)
        self.history_view.doubleClicked.connect(self.on_history_open)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.on_generate)
        QShortcut(QKeySequence("Escape"), self, activated=self.on_cancel)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.on_save)

    # -- repository and files -----------------------------------------------

    def _slider_moved(self, percent: int) -> None:
        if round(self.target_spin.value() * 100) != percent:
            self.target_spin.setValue(percent / 100)

    def _target_typed(self, value: float) -> None:
        if self.target_slider.value() != round(value * 100):
            self.target_slider.setValue(round(value * 100))

    def focus_repository(self) -> None:
        """Ctrl+L, as in a browser's address bar: type a folder or a git URL, Enter loads it."""
        self.repo_edit.setFocus()
        self.repo_edit.selectAll()

    def on_browse(self) -> None:
        dialog = QFileDialog(self, "Choose a repository folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(lambda path: (self.repo_edit.setText(path), self.on_load()))
        dialog.open()  # non-modal: no nested event loop

    def on_load(self) -> None:
        url = self.repo_edit.text().strip()
        if not url:
            self._say("Repository: give a folder or a git URL first.")
            return
        self._say(f"Loading {url}…")
        self.runner.run(self.control.inspect_repository(url), self._show_files, self._say_error)

    def _show_files(self, loaded: tuple[Path, list[Any]]) -> None:
        self.repository, files = loaded
        self.files_model.removeRows(0, self.files_model.rowCount())
        self.files_model.blockSignals(True)
        for f in files:
            item = QStandardItem(f.path)
            item.setEditable(False)
            item.setCheckable(not f.is_test)
            if f.is_test:
                item.setEnabled(False)
                item.setToolTip("An existing test file (used for the baseline coverage)")
            else:
                item.setCheckState(Qt.CheckState.Unchecked)
            self.files_model.appendRow(item)
        self.files_model.blockSignals(False)
        if self._restore_targets:
            self.set_checked(self._restore_targets)
            self._restore_targets = []
        if self.repo_edit.hasFocus():  # loaded from the keyboard: go on with the keyboard (Space ticks a file)
            self.files_view.setFocus()
            first = next((r for r in range(self.files_model.rowCount()) if self.files_model.item(r).isCheckable()), 0)
            self.files_view.setCurrentIndex(self.files_model.index(first, 0))
        self._say(f"Loaded {self.repository}: {len(files)} Python files.")
        self._refresh_plan()

    # -- the form survives a restart ---------------------------------------------

    def remember_form(self, files: list[str]) -> None:
        """What the user generated with last: restored at the next start (QSettings, per user)."""
        settings = QSettings()
        settings.beginGroup("generate")
        settings.setValue("repository", self.repo_edit.text().strip())
        settings.setValue("targets", files)
        settings.setValue("coverage_target", self.target_spin.value())
        settings.setValue("requirements", self.requirements_edit.toPlainText())
        settings.endGroup()

    def restore_form(self) -> None:
        """The last repository, targets, target and requirements; a local folder is loaded again at once
        (its targets ticked when its files arrive), a git URL waits for Load."""
        settings = QSettings()
        settings.beginGroup("generate")
        repository = str(settings.value("repository", "") or "")
        targets = settings.value("targets", []) or []
        target = settings.value("coverage_target")
        requirements = str(settings.value("requirements", "") or "")
        settings.endGroup()
        if target is not None:
            self.target_spin.setValue(float(target))
        if requirements and not self.requirements_edit.toPlainText():
            self.requirements_edit.setPlainText(requirements)
        if not repository or self.repo_edit.text():
            return
        self.repo_edit.setText(repository)
        self._restore_targets = [targets] if isinstance(targets, str) else list(targets)
        if Path(repository).is_dir():
            self.on_load()

    def checked_files(self) -> list[str]:
        return [self.files_model.item(r).text() for r in range(self.files_model.rowCount())
                if self.files_model.item(r).checkState() == Qt.CheckState.Checked]

    def set_checked(self, names: list[str]) -> None:
        for r in range(self.files_model.rowCount()):
            item = self.files_model.item(r)
            if item.isCheckable():
                item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def _refresh_plan(self) -> None:
        files = self.checked_files()
        self.runner.run(self.control.plan(self.repository, files), self._show_plan, lambda _m: None)

    def _show_plan(self, plan: dict[str, Any]) -> None:
        if plan["model"]:
            cost = "cost unknown" if plan["max_cost_usd"] is None else f"${plan['max_cost_usd']:.4f}"
            self.plan_label.setText(f"{plan['strategy']} strategy with {plan['model']}: at most "
                                    f"{plan['max_tokens']:,} tokens, {cost}. {plan['note']}")
        else:
            self.plan_label.setText(f"{plan['strategy']} strategy, no token cost. {plan['note']}")

    # -- generation -------------------------------------------------------------

    def on_generate(self, confirmed: bool = False) -> None:
        if self.current_task is not None:
            return
        self.target_spin.interpretText()  # Ctrl+Return while still typing in the box: take what is typed
        files = self.checked_files()
        if self.repository is None:
            self._say("Repository: load a repository first.")
            return
        if not files:
            self._say("Files: tick at least one Python file to cover.")
            return
        if not confirmed and self._target_met_on_screen(files):
            box = QMessageBox(
                QMessageBox.Icon.Question, "The target is already met",
                f"The tests on screen already reach {self.current_result.get('coverage_estimate', 0):.0%} for "
                "these files (target " f"{self.target_spin.value():.0%}). They are not saved yet, so another "
                "request would generate the same ground again. Save them (Ctrl+S), or generate more anyway?",
                QMessageBox.StandardButton.Cancel, self)
            anyway = box.addButton("Generate anyway", QMessageBox.ButtonRole.AcceptRole)
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            box.finished.connect(lambda _code: self.on_generate(confirmed=True) if box.clickedButton() is anyway else None)
            box.open()
            self._met_box = box
            return
        request = GenerateRequest(
            repository_url=str(self.repository), target_files=files, coverage_target=self.target_spin.value(),
            requirements=self.requirements_edit.toPlainText().strip(),
            conversation_id=self.conversation_combo.currentData(),
        )
        self.remember_form(files)
        self.log.clear()
        self.generators_table.setRowCount(0)
        self._run = RunProgress(time.monotonic(), estimate_s(GenerationPlan.of(asdict(request))), request.coverage_target)
        self.clock.start()
        self._tick()
        self.progress.setValue(0)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.current_task = "submitting"
        self.runner.run(self.control.generate(request), self._on_submitted, self._on_submit_failed)

    def show_sandbox(self, sandbox: Any, allow_unisolated: bool) -> None:
        """The banner: hidden while code is isolated; red when refused; amber while allowed without."""
        if sandbox.available:
            self.sandbox_banner.hide()
            return
        if allow_unisolated:
            text = (f"Repository code runs WITHOUT isolation: {sandbox.detail}. It can read your files and "
                    "secrets. Turn allow_unisolated off in Settings once the sandbox works.")
            style = "background:#fff4d6;color:#6b4a00;border:1px solid #d08a00;padding:6px;border-radius:4px"
        else:
            text = (f"Generation is refused: code from the repository cannot be isolated here ({sandbox.detail}). "
                    "Install it, or set allow_unisolated to true in Settings to run it anyway.")
            style = "background:#fde8e8;color:#7a1010;border:1px solid #d64545;padding:6px;border-radius:4px"
        if self.sandbox_banner.text() != text:
            self.sandbox_banner.setText(text)
            self.sandbox_banner.setStyleSheet(style)
        self.sandbox_banner.show()

    def _on_submit_failed(self, message: str) -> None:
        self.current_task = None
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say_error(message)

    def _on_submitted(self, submitted: dict[str, Any]) -> None:
        self.current_task = submitted["task_id"]
        self._append(f"Request {submitted['task_id']} → {submitted['route']} ({submitted['reason']})")
        if submitted["route"] == "phase2":
            self._append("Phase 2 single-shot path: one generation pass, executed once…")
        if self.conversation_combo.findData(submitted["conversation_id"]) < 0:
            self.conversation_combo.addItem(f"{submitted['conversation_id']} ({self.repository.name})",
                                            submitted["conversation_id"])
        self._watch = self.runner.run(self._follow(submitted["task_id"]), lambda _r: None, self._say_error)

    async def _follow(self, task_id: str) -> None:
        seen: set[str] = set()

        async def events() -> None:
            async for event in self.control.progress_events(task_id):
                agent = event["agent_id"].split("_")[1] if "_" in event["agent_id"] else event["agent_id"]
                seen.add(agent)
                self.on_progress_event(agent, event)

        listener = asyncio.ensure_future(events())
        try:
            while True:
                state = await self.control.status(task_id)
                if state is not None and state["status"] in ("completed", "failed"):
                    break
                await asyncio.sleep(0.3)
        finally:
            await cancel_and_wait([listener], grace_s=5, who="progress listener")
        self._finished(state)

    def on_progress_event(self, agent: str, event: dict[str, Any]) -> None:
        """One progress line: the log, the step, coverage so far, and a generator's row when it is one.

        A model's answer growing (``model_stream``) only updates the step: a slow local model is seen
        writing (tokens, tokens/s) without a log line a second."""
        run = self._run
        if "model_stream" in event:
            if run is not None:
                run.model = event["message"]
                self._tick()
            return
        self._append(f"[{agent}] {event['message']}")
        if run is None:
            return
        run.model = ""
        run.step = agent
        if "coverage" in event:
            run.coverage = float(event["coverage"])
        if "search_budget_s" in event and not run.evolving:
            run.evolving = time.monotonic()
        if "generator" in event:
            self._generator_row(event)
        self._tick()

    def _generator_row(self, event: dict[str, Any]) -> None:
        table = self.generators_table
        row = table.rowCount()
        table.insertRow(row)
        kept = int(event.get("kept") or 0)
        cells = [event.get("target_file", ""), f"round {event.get('round', 1)}: {event['generator']}",
                 str(kept), f"{float(event.get('seconds') or 0):.0f} s"]
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 2 and not kept:
                item.setForeground(QColor("#8a8a8a"))
            item.setToolTip(event["message"])
            table.setItem(row, column, item)
        table.scrollToBottom()

    def _target_met_on_screen(self, files: list[str]) -> bool:
        """The result on screen is for these files, reached the target and was not saved: generating again
        made 14 more tests for nothing (issue 14)."""
        result = self.current_result or {}
        covered = {f["path"] for f in result.get("coverage_by_file") or []}
        return (bool(result.get("files")) and not self.saved_paths and covered == set(files)
                and str(self.repository) == str(result.get("repository") or "")
                and float(result.get("coverage_estimate") or 0) >= self.target_spin.value())

    def _tick(self) -> None:
        """Elapsed time, an estimate of what is left, coverage so far, and the bar by time and step."""
        run = self._run
        if run is None:
            return
        elapsed = time.monotonic() - run.started
        left = run.estimate_s - elapsed
        when = f"about {clock(left)} left" if left > 0 else "taking longer than the estimate"
        so_far = f" · line coverage so far {run.coverage:.0%} (target {run.target:.0%})" if run.coverage is not None else ""
        step = f" · {run.step}" if run.step else ""
        step += f" · {run.model}" if run.model else ""
        self.progress_label.setText(f"Elapsed {clock(elapsed)} · {when}{so_far}{step}")
        fraction = BEFORE_EVOLVE * STEPS.index(run.step) / STEPS.index("evolution") if run.step in STEPS[:4] else 0.0
        if run.evolving:
            fraction = BEFORE_EVOLVE + (BEFORE_RESULT - BEFORE_EVOLVE) * min(1.0, elapsed / max(run.estimate_s, 1.0))
        if run.step == "reporting":
            fraction = BEFORE_RESULT
        self.progress.setValue(max(self.progress.value(), round(fraction * PROGRESS_SCALE)))
        self.progress.setFormat(f"{self.progress.value() / PROGRESS_SCALE:.0%}")

    def _finished(self, state: dict[str, Any]) -> None:
        self.clock.stop()
        if self._run is not None:
            took = clock(time.monotonic() - self._run.started)
            self.progress_label.setText(f"Took {took}" + (f" · line coverage {self._run.coverage:.0%}"
                                                          if self._run.coverage is not None else ""))
            self._run = None
        self.current_task = None
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        verdict = of_state(state)
        if state["status"] == "completed" or verdict.kind == "partial":  # a cancel keeps what was kept
            self.show_result(state)
        else:
            self._append(f"Failed: {verdict.reason}")
            self.current_result = None
            self.summary.setText(verdict_header(verdict))  # the header stays; the window's status line says it too
            self.message.emit("warning", f"Generation failed: {verdict.reason}")
        if verdict.kind != "failed":
            self.progress.setValue(PROGRESS_SCALE)
            self.progress.setFormat("100%")
        else:
            self.progress.setFormat("failed")
        self.refresh_history()

    def on_cancel(self) -> None:
        task = self.current_task
        if not task or task == "submitting":
            return
        self._append("Cancelling…")
        self.runner.run(self.control.cancel(task), lambda _r: None, self._say_error)

    def show_result(self, state: dict[str, Any]) -> None:
        result = state["result"] or {}
        self.current_result = result
        self.tests_view.setPlainText(result.get("tests", ""))
        cov = result.get("coverage_estimate", 0.0)
        verdict = of_state(state)
        if verdict.kind == "failed":  # nothing kept: no coverage figures that look like a result
            self.summary.setText(verdict_header(verdict) + "<br>" + _spent_line(state, result)
                                 + _generators_line(result).removeprefix("<br>"))
        else:
            self.summary.setText(
                verdict_header(verdict) + "<br>"
                f"<b>{result.get('test_count', 0)} tests</b> · measured line coverage <b>{cov:.1%}</b> "
                f"(branches {result.get('branch_coverage', 0):.1%}) · {state.get('token_usage') or 0:,} tokens · "
                f"${result.get('cost_usd', 0):.4f}"
                + (f' <span style="color:#a35f00">({escape(result["cost_note"])})</span>' if result.get("cost_note")
                   else "")
                + f" · {result.get('execution_time_seconds', 0):.1f} s · "
                f"{result.get('strategy', '?')} strategy, {result.get('rounds', 1)} round(s)"
                + _mutation_line(result) + _generators_line(result))
        rows = result.get("coverage_by_file", []) if verdict.kind != "failed" else []
        self.coverage_table.setRowCount(len(rows))
        for i, f in enumerate(rows):
            self.coverage_table.setItem(i, 0, QTableWidgetItem(f["path"]))
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(round(f["line_rate"] * 100))
            bar.setFormat(f"{f['line_rate']:.0%} ({f['lines_covered']}/{f['lines_total']})")
            self.coverage_table.setCellWidget(i, 1, bar)
            self.coverage_table.setItem(i, 2, QTableWidgetItem(f"{f['branch_rate']:.0%}"))
            self.coverage_table.setItem(i, 3, QTableWidgetItem("1 (as written)"))
        for b in (self.save_button, self.copy_button, self.open_button, self.run_button):
            b.setEnabled(bool(result.get("files")))
        self.editor_button.setEnabled(False)
        self.saved_paths = []
        self.run_label.clear()
        self.outline.clear()
        if result.get("files") and self.control is not None:
            self.runner.run(self.control.test_outline(result), self.show_outline, lambda _m: None)
        self.tabs.setCurrentIndex(0)
        self.result_shown.emit(state["task_id"])

    # -- result actions -------------------------------------------------------

    def on_copy(self) -> None:
        if self.current_result:
            QGuiApplication.clipboard().setText(self.current_result.get("tests", ""))
            self._say("Tests copied to the clipboard.")

    def target_folder(self) -> Path | None:
        repo = (self.current_result or {}).get("repository")
        return Path(repo) if repo else self.repository

    def show_outline(self, files: list[Any]) -> None:
        self.outline.clear()
        for f in files:
            top = QTreeWidgetItem([f.path, ""])
            for function in f.functions:
                rate = function.rate
                child = QTreeWidgetItem([f"{function.name} ({len(function.tests)} tests)",
                                         "–" if rate is None else f"{rate:.0%} ({function.lines_covered}/{function.lines_total})"])
                if rate is not None and rate < 1:
                    child.setForeground(1, QColor(COLOURS["partial"]))
                for test_file, name, line in function.tests:
                    leaf = QTreeWidgetItem([name, ""])
                    leaf.setData(0, Qt.ItemDataRole.UserRole, (test_file, name))
                    leaf.setToolTip(0, f"{test_file}, line {line}")
                    child.addChild(leaf)
                top.addChild(child)
            self.outline.addTopLevelItem(top)
            top.setExpanded(True)

    def on_outline_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        """A test in the outline: its code selected in the code view."""
        where = item.data(0, Qt.ItemDataRole.UserRole)
        if not where:
            return
        test_file, name = where
        text = self.tests_view.toPlainText()
        start = text.find(f"# ===== {test_file} =====")
        at = text.find(f"def {name}(", max(start, 0))
        if at < 0:
            return
        cursor = self.tests_view.textCursor()
        cursor.setPosition(at)
        self.tests_view.setTextCursor(cursor)
        self.tests_view.centerCursor()

    def on_save(self) -> None:
        """Review first: the exact paths under the repository, new or differing, with a diff (Ctrl+S)."""
        if self.current_result and self.target_folder():
            self.review_save(self.target_folder())

    def review_save(self, folder: Path) -> None:
        files = (self.current_result or {}).get("files", {})
        self.runner.run(self.control.plan_save(folder, files), self._show_save_dialog, self._say_error)

    def _show_save_dialog(self, targets: list[Any]) -> None:
        dialog = SaveDialog(targets, self)
        dialog.save_requested.connect(lambda overwrite: self._write(targets, overwrite))
        dialog.folder_requested.connect(self._choose_folder)
        dialog.open()
        self.save_dialog = dialog

    def _choose_folder(self) -> None:
        dialog = QFileDialog(self, "Save the tests under this folder", str(self.target_folder() or ""))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(lambda folder: self.review_save(Path(folder)))
        dialog.open()

    def _write(self, targets: list[Any], overwrite: bool) -> None:
        self.runner.run(self.control.write_tests(targets, overwrite), self._saved, self._say_error)

    def _saved(self, written: list[Path]) -> None:
        self.saved_paths = written
        self.editor_button.setEnabled(bool(written))
        self._say("Saved: " + ", ".join(map(str, written)) if written else "Nothing to save: the files are there already.")

    def on_open_in_editor(self) -> None:
        """The saved files in the system's default editor for Python files."""
        for path in self.saved_paths:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def on_run_tests(self) -> None:
        if not self.current_result:
            return
        self.run_button.setEnabled(False)
        self.run_label.setText("Running the tests in the sandbox…")
        self.runner.run(self.control.run_tests(self.current_result), self._show_run, self._run_failed)

    def _run_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.run_label.setText(f'<span style="color:#d64545">{escape(message)}</span>')

    def _show_run(self, runs: list[dict[str, Any]]) -> None:
        self.run_button.setEnabled(True)
        outcomes = [t for run in runs for t in run["tests"]]
        passed = sum(t["outcome"] == "passed" for t in outcomes)
        failed = [t for t in outcomes if t["outcome"] != "passed"]
        colour = COLOURS["completed"] if not failed and outcomes else COLOURS["failed"]
        text = f'<span style="color:{colour}"><b>{passed} passed, {len(failed)} failed</b></span>'
        if failed:
            text += "<br>" + "<br>".join(escape(f"{t['name']}: {t.get('message') or t['outcome']}")[:200]
                                         for t in failed[:5])
        elif not outcomes:
            text = f'<span style="color:{COLOURS["failed"]}">No test ran: ' + escape(
                "; ".join(str(r.get("error") or r["status"]) for r in runs)) + "</span>"
        self.run_label.setText(text)

    def on_open_folder(self) -> None:
        folder = self.target_folder()
        if folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- history ---------------------------------------------------------------

    def on_tab_changed(self, index: int) -> None:
        # Requests also come from the REST API and the CLI; History showed none of them until
        # Refresh was pressed (found with the real window under Xvfb, 14 API requests in).
        if index == self.history_tab_index:
            self.refresh_history()

    def refresh_history(self) -> None:
        self.runner.run(self.control.history(), self.history_model.set_rows, lambda _m: None)

    def _apply_filter(self) -> None:
        status = self.status_filter.currentText()
        self.history_proxy.set_filter("" if status == "All" else status, self.text_filter.text())

    def on_history_open(self, index) -> None:
        """A past request: its result (or why it failed) and its whole run log, as it was kept."""
        task_id = index.data(Qt.ItemDataRole.UserRole)
        self.runner.run(self.control.status(task_id), self._open_state, self._say_error)
        self.runner.run(self.control.run_log(task_id), self._show_run_log, self._say_error)

    def _show_run_log(self, text: str) -> None:
        self.log.setPlainText(text or "No log was kept for this request.")
        self.generators_table.setRowCount(0)

    def _open_state(self, state: dict[str, Any] | None) -> None:
        if state is None:
            return
        if state["status"] == "completed" or of_state(state).kind == "partial":
            self.show_result(state)
        else:
            verdict = of_state(state)
            self.current_result = None
            self.summary.setText(verdict_header(verdict))
            self.tests_view.clear()

    # -- messages ---------------------------------------------------------------

    def _append(self, line: str) -> None:
        self.log.appendPlainText(line)

    def _say(self, text: str) -> None:
        """Said under the form while there is no result; once a result is shown, to the window (the
        summary is the result's, and "Saved 1 file(s)" replaced it: issue 14)."""
        if self.current_result is None:
            self.summary.setText(escape(text))
        self.message.emit("info", text)

    def _say_error(self, text: str) -> None:
        if self.current_result is None:
            self.summary.setText(f'<span style="color:#d64545">{escape(text)}</span>')
        self.message.emit("warning", text)
