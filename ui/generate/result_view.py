"""A request's result: the verdict and figures, coverage per file, the tests by function and as code,
and what can be done with them (save after review, copy, run in the sandbox, open).

Signals:
    message(str, str): (level, text) for the window's status line and message log.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.outcome import COLOURS, of_state
from engine import multi_file
from ui.async_bridge import AsyncRunner
from ui.generate import result_text
from ui.highlighter import PythonHighlighter
from ui.save_dialog import SaveDialog


class ResultView(QWidget):
    message = Signal(str, str)

    def __init__(self, results: Any, runner: AsyncRunner, parent: QWidget | None = None) -> None:
        """``results``: the ``TestResultsService`` (outline, run, save), or None where nothing acts on results."""
        super().__init__(parent)
        self.results = results
        self.runner = runner
        self.current_result: dict[str, Any] | None = None
        self.fallback_folder: Path | None = None  # the loaded repository, when the result names none
        self.saved_paths: list[Path] = []
        box = QVBoxLayout(self)
        self.summary = QLabel("No result yet.")
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        box.addWidget(self.summary)
        self.coverage_table = QTableWidget(0, 4)
        self.coverage_table.setHorizontalHeaderLabels(["File", "Line coverage", "Branches", "Tier"])
        self.coverage_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.coverage_table.verticalHeader().setVisible(False)
        self.coverage_table.setMaximumHeight(150)
        box.addWidget(self.coverage_table)
        box.addWidget(self._code_views(), 1)
        box.addLayout(self._actions())
        self.run_label = QLabel("")
        self.run_label.setObjectName("run-result")
        self.run_label.setWordWrap(True)
        box.addWidget(self.run_label)

    def _code_views(self) -> QSplitter:
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
        self.outline.setHeaderLabels(["Function", "Coverage"])  # "Tests by function" was cut to "functior"
        self.outline.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.outline.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.outline.itemActivated.connect(self.on_outline_item)
        self.outline.itemClicked.connect(self.on_outline_item)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.outline)
        split.addWidget(self.tests_view)
        split.setSizes([300, 480])
        return split

    def _actions(self) -> QHBoxLayout:
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
        self.save_button.clicked.connect(self.on_save)
        self.copy_button.clicked.connect(self.on_copy)
        self.open_button.clicked.connect(self.on_open_folder)
        self.run_button.clicked.connect(self.on_run_tests)
        self.editor_button.clicked.connect(self.on_open_in_editor)
        return actions

    # -- showing ----------------------------------------------------------------

    def show_state(self, state: dict[str, Any]) -> None:
        """A finished request: its verdict, figures, coverage rows and tests."""
        result = state["result"] or {}
        self.current_result = result
        if result.get("repository_note"):  # the row named a folder this machine would not use (app/generation.py)
            self.message.emit("warning", result["repository_note"])
        self.tests_view.setPlainText(result.get("tests", ""))
        verdict = of_state(state)
        self.summary.setText(result_text.summary(state, verdict))
        rows = list(result.get("coverage_by_file", []) if verdict.kind != "failed" else [])
        if len(rows) > 1:  # every file, then all of them together: statements over statements, as measured
            rows.append(_total_row(rows))
        self.coverage_table.setRowCount(len(rows))
        for i, f in enumerate(rows):
            self.coverage_table.setItem(i, 0, QTableWidgetItem(f["path"]))
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(round(f["line_rate"] * 100))
            bar.setFormat(f"{f['line_rate']:.0%} ({f['lines_covered']}/{f['lines_total']})")
            self.coverage_table.setCellWidget(i, 1, bar)
            self.coverage_table.setItem(i, 2, QTableWidgetItem(f"{f['branch_rate']:.0%}"))
            self.coverage_table.setItem(i, 3, QTableWidgetItem("" if f.get("total") else "1 (as written)"))
        for b in (self.save_button, self.copy_button, self.open_button, self.run_button):
            b.setEnabled(bool(result.get("files")))
        self.editor_button.setEnabled(False)
        self.saved_paths = []
        self.run_label.clear()
        self.outline.clear()
        if result.get("files") and self.results is not None:
            self.runner.run(self.results.test_outline(result), self.show_outline, lambda _m: None)

    def show_failure(self, header_html: str) -> None:
        """A request that kept nothing: the verdict stays on screen, no figures, no tests."""
        self.current_result = None
        self.summary.setText(header_html)
        self.tests_view.clear()
        self.coverage_table.setRowCount(0)
        self.outline.clear()
        for b in (self.save_button, self.copy_button, self.open_button, self.run_button, self.editor_button):
            b.setEnabled(False)

    def show_outline(self, files: list[Any]) -> None:
        self.outline.clear()
        for f in files:
            top = QTreeWidgetItem([f.path, ""])
            for function in f.functions:
                rate = function.rate
                child = QTreeWidgetItem([f"{function.name} ({len(function.tests)} tests)", "–" if rate is None
                                         else f"{rate:.0%} ({function.lines_covered}/{function.lines_total})"])
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
        at = text.find(f"def {name}(", max(multi_file.offset_of(text, test_file), 0))
        if at < 0:
            return
        cursor = self.tests_view.textCursor()
        cursor.setPosition(at)
        self.tests_view.setTextCursor(cursor)
        self.tests_view.centerCursor()

    # -- actions ----------------------------------------------------------------

    def target_folder(self) -> Path | None:
        repo = (self.current_result or {}).get("repository")
        return Path(repo) if repo else self.fallback_folder

    def on_copy(self) -> None:
        if self.current_result:
            QGuiApplication.clipboard().setText(self.current_result.get("tests", ""))
            self.message.emit("info", "Tests copied to the clipboard.")

    def on_save(self) -> None:
        """Review first: the exact paths under the repository, new or differing, with a diff (Ctrl+S)."""
        if self.current_result and self.target_folder():
            self.review_save(self.target_folder())

    def review_save(self, folder: Path) -> None:
        files = (self.current_result or {}).get("files", {})
        self.runner.run(self.results.plan_save(folder, files), self._show_save_dialog, self._error)

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
        self.runner.run(self.results.write_tests(targets, overwrite), self._saved, self._error)

    def _saved(self, written: list[Path]) -> None:
        self.saved_paths = written
        self.editor_button.setEnabled(bool(written))
        self.message.emit("info", "Saved: " + ", ".join(map(str, written)) if written
                          else "Nothing to save: the files are there already.")

    def on_open_in_editor(self) -> None:
        """The saved files in the system's default editor for Python files."""
        for path in self.saved_paths:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def on_run_tests(self) -> None:
        if not self.current_result or self.results is None:
            return
        self.run_button.setEnabled(False)
        self.run_label.setText("Running the tests in the sandbox…")
        self.runner.run(self.results.run_tests(self.current_result), self._show_run, self._run_failed)

    def _run_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.run_label.setText(f'<span style="color:#d64545">{escape(message)}</span>')

    def _show_run(self, runs: list[dict[str, Any]]) -> None:
        self.run_button.setEnabled(True)
        self.run_label.setText(result_text.test_run(runs))

    def on_open_folder(self) -> None:
        folder = self.target_folder()
        if folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _error(self, text: str) -> None:
        self.message.emit("warning", text)


def _total_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    covered, total = sum(r["lines_covered"] for r in rows), sum(r["lines_total"] for r in rows)
    arcs, branches = sum(r.get("branches_covered", 0) for r in rows), sum(r.get("branches_total", 0) for r in rows)
    return {"path": f"All {len(rows)} files", "total": True, "lines_covered": covered, "lines_total": total,
            "line_rate": covered / total if total else 0.0, "branch_rate": arcs / branches if branches else 0.0}
