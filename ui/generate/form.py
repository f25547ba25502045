"""The Generate form: repository, target files, coverage target, search time, requirements.

It only gathers input. ``request()`` turns it into the one request type
(``engine.generate_request.GenerateRequest``) and a bad value is shown as
a sentence next to its field, worded as the CLI and the API word it.

Signals:
    load_requested(str): the user wants this folder or URL loaded (Load, Enter, Browse).
    targets_changed(): a file was ticked or unticked (the plan is refreshed).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from engine.errors import InputError
from engine.generate_request import DEFAULT_REQUEST_FIELDS, SEARCH_TIME_MAX_S, SEARCH_TIME_MIN_S, GenerateRequest

ERROR_STYLE = "color:#d64545"
# The fields the form shows, each with the label its error sits under.
FIELDS = ("repository_url", "target_files", "coverage_target", "search_time_s", "requirements")


class GenerateForm(QWidget):
    load_requested = Signal(str)
    targets_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._restore_targets: list[str] = []
        self.errors: dict[str, QLabel] = {name: self._error_label(name) for name in FIELDS}
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(self._repository_row())
        box.addWidget(self.errors["repository_url"])
        self.files_model = QStandardItemModel()
        self.files_model.setHorizontalHeaderLabels(["Python files (tick the targets; tests are greyed)"])
        self.files_view = QTreeView()
        self.files_view.setModel(self.files_model)
        self.files_view.setObjectName("files")
        box.addWidget(self.files_view, 1)
        # The whole repository (issue 27): every module without tests, the budget split by what is left to cover.
        self.whole_check = QCheckBox("&All modules without tests")  # Alt+A
        self.whole_check.setObjectName("whole-repository")
        self.whole_check.setToolTip("Generate for every module no test file is named after or imports; the search "
                                    "time is shared among them by how much each has left to cover, and each "
                                    "module gets its own coverage in the result")
        self.whole_check.toggled.connect(self._whole_toggled)
        box.addWidget(self.whole_check)
        box.addWidget(self.errors["target_files"])
        box.addLayout(self._settings_form())
        self.files_model.itemChanged.connect(self._on_item_changed)

    # -- layout -----------------------------------------------------------------

    @staticmethod
    def _error_label(name: str) -> QLabel:
        label = QLabel("")
        label.setObjectName(f"error-{name}")
        label.setWordWrap(True)
        label.setStyleSheet(ERROR_STYLE)
        label.hide()
        return label

    def _repository_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.repo_edit = QLineEdit()
        self.repo_edit.setPlaceholderText("Folder or git URL, e.g. https://github.com/org/repo.git")
        self.repo_edit.setToolTip("A folder on this machine or a git URL (cloned shallow)")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose a folder")
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("List the repository's Python files (Enter)")
        row.addWidget(self.repo_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.load_button)
        self.browse_button.clicked.connect(self.on_browse)
        self.load_button.clicked.connect(self.on_load)
        self.repo_edit.returnPressed.connect(self.on_load)
        self.repo_edit.textEdited.connect(lambda _t: self.clear_error("repository_url"))
        return row

    def _settings_form(self) -> QFormLayout:
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
        self.target_spin.setValue(DEFAULT_REQUEST_FIELDS["coverage_target"])
        target_row.addWidget(self.target_slider, 1)
        target_row.addWidget(self.target_spin)
        form.addRow("Coverage target:", target_row)
        form.addRow("", self.errors["coverage_target"])
        # Wider than the request allows, so a value out of range is said in words, not silently clamped.
        self.search_spin = QSpinBox()
        self.search_spin.setRange(0, 100 * SEARCH_TIME_MAX_S)
        self.search_spin.setSuffix(" s")
        self.search_spin.setValue(DEFAULT_REQUEST_FIELDS["search_time_s"])
        self.search_spin.setToolTip(f"Search budget for the whole request, shared by the ticked files "
                                    f"({SEARCH_TIME_MIN_S}-{SEARCH_TIME_MAX_S} s)")
        self.search_spin.valueChanged.connect(lambda _v: self.clear_error("search_time_s"))
        self.target_spin.valueChanged.connect(lambda _v: self.clear_error("coverage_target"))
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_spin)
        # The mutation score says whether the kept tests notice wrong lines, and holds distillation to it
        # (agents/mutation_gate.py); it costs a time box of its own, said in the box's text.
        self.mutation_check = QCheckBox()
        self.mutation_check.setChecked(True)
        self.search_spin.valueChanged.connect(lambda _v: self._say_mutation_box())
        self._say_mutation_box()
        search_row.addWidget(self.mutation_check, 1)
        form.addRow("Search time:", search_row)
        form.addRow("", self.errors["search_time_s"])
        self.requirements_edit = QPlainTextEdit()
        self.requirements_edit.setPlaceholderText("What matters to you, e.g. edge cases of clamp, error handling")
        self.requirements_edit.setFixedHeight(64)
        form.addRow("Requirements:", self.requirements_edit)
        form.addRow("", self.errors["requirements"])
        self.conversation_combo = QComboBox()
        self.conversation_combo.setEditable(False)
        self.conversation_combo.addItem("New request", None)
        self.conversation_combo.setToolTip("Follow up on an earlier request: the agents recall what they learned")
        form.addRow("Follow-up on:", self.conversation_combo)
        self.plan_label = QLabel("Load a repository to see the strategy and cost.")
        self.plan_label.setWordWrap(True)
        form.addRow("Plan:", self.plan_label)
        return form

    # -- input ------------------------------------------------------------------

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
            self.show_error("repository_url", "Repository: give a folder or a git URL first.")
            return
        self.clear_error("repository_url")
        self.load_requested.emit(url)

    def _on_item_changed(self, _item: Any) -> None:
        self.clear_error("target_files")
        self.targets_changed.emit()

    def show_files(self, files: list[Any]) -> None:
        """The repository's Python files: targets tickable, existing tests greyed."""
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

    def _whole_toggled(self, whole: bool) -> None:
        self.files_view.setEnabled(not whole)  # the ticks stay as they were, for when it is unticked
        self.clear_error("target_files")
        self.targets_changed.emit()

    def target_files(self) -> list[str]:
        """What the request names: the ticked files, or ``["*"]`` for every module without tests."""
        return ["*"] if self.whole_check.isChecked() else self.checked_files()

    def checked_files(self) -> list[str]:
        return [self.files_model.item(r).text() for r in range(self.files_model.rowCount())
                if self.files_model.item(r).checkState() == Qt.CheckState.Checked]

    def set_checked(self, names: list[str]) -> None:
        for r in range(self.files_model.rowCount()):
            item = self.files_model.item(r)
            if item.isCheckable():
                item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def request(self, repository: Path | None) -> GenerateRequest | None:
        """The request the form describes, or None with the problem shown next to its field."""
        self.target_spin.interpretText()  # Ctrl+Return while still typing in the box: take what is typed
        self.search_spin.interpretText()
        self.clear_errors()
        if repository is None:
            self.show_error("repository_url", "Repository: load a repository first.")
            return None
        files = self.target_files()
        if not files:
            self.show_error("target_files", "Files: tick at least one Python file to cover, or choose "
                                            "All modules without tests (Alt+A).")
            return None
        try:
            return GenerateRequest.parse({
                "repository_url": str(repository), "target_files": files,
                "coverage_target": self.target_spin.value(), "search_time_s": self.search_spin.value(),
                "requirements": self.requirements_edit.toPlainText().strip(),
                "conversation_id": self.conversation_combo.currentData(),
                "mutation_score": self.mutation_check.isChecked()})
        except InputError as exc:
            self.show_error(exc.field if exc.field in self.errors else "repository_url", str(exc))
            return None

    def _say_mutation_box(self) -> None:
        box = GenerateRequest(repository_url="./repo", search_time_s=min(max(self.search_spin.value(), SEARCH_TIME_MIN_S),
                                                                    SEARCH_TIME_MAX_S)).mutation_time_box_s
        self.mutation_check.setText(f"&Mutation score (up to {box:.0f} s more)")  # Alt+M
        self.mutation_check.setToolTip("Measure how many deliberately broken versions of the code the kept tests "
                                       "catch (mutmut, in the sandbox), and keep distilled tests only if they "
                                       "catch as many as the tests as generated")

    # -- errors -----------------------------------------------------------------

    def show_error(self, field: str, text: str) -> None:
        label = self.errors[field]
        label.setText(escape(text))
        label.setToolTip(text)
        label.show()

    def clear_error(self, field: str) -> None:
        self.errors[field].clear()
        self.errors[field].hide()

    def clear_errors(self) -> None:
        for name in self.errors:
            self.clear_error(name)

    def error_text(self) -> str:
        """Every message shown next to a field, one per line (empty when the form is fine)."""
        return "\n".join(label.toolTip() for label in self.errors.values() if not label.isHidden())

    # -- the form survives a restart ---------------------------------------------

    def remember(self) -> None:
        """What the user generated with last: restored at the next start (QSettings, per user)."""
        settings = QSettings()
        settings.beginGroup("generate")
        settings.setValue("repository", self.repo_edit.text().strip())
        settings.setValue("targets", self.checked_files())
        settings.setValue("whole_repository", self.whole_check.isChecked())
        settings.setValue("coverage_target", self.target_spin.value())
        settings.setValue("search_time_s", self.search_spin.value())
        settings.setValue("mutation_score", self.mutation_check.isChecked())
        settings.setValue("requirements", self.requirements_edit.toPlainText())
        settings.endGroup()

    def restore(self) -> bool:
        """The last repository, targets, target, search time and requirements. True when a local
        folder should be loaded again at once (its targets ticked when its files arrive); a git
        URL waits for Load."""
        settings = QSettings()
        settings.beginGroup("generate")
        repository = str(settings.value("repository", "") or "")
        targets = settings.value("targets", []) or []
        target = settings.value("coverage_target")
        search = settings.value("search_time_s")
        mutation = settings.value("mutation_score")
        whole = settings.value("whole_repository")
        requirements = str(settings.value("requirements", "") or "")
        settings.endGroup()
        if whole is not None:
            self.whole_check.setChecked(str(whole).lower() in ("true", "1"))
        if target is not None:
            self.target_spin.setValue(float(target))
        if search is not None:
            self.search_spin.setValue(int(search))
        if mutation is not None:  # QSettings gives "true"/"false" back from an ini file
            self.mutation_check.setChecked(str(mutation).lower() in ("true", "1"))
        if requirements and not self.requirements_edit.toPlainText():
            self.requirements_edit.setPlainText(requirements)
        if not repository or self.repo_edit.text():
            return False
        self.repo_edit.setText(repository)
        self._restore_targets = [targets] if isinstance(targets, str) else list(targets)
        return Path(repository).is_dir()
