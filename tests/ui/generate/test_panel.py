from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.ui.helpers import until
from ui.generate.panel import GeneratePanel

pytestmark = pytest.mark.slow


async def load(qtbot, panel: GeneratePanel, repo: Path) -> None:
    panel.form.repo_edit.setText(str(repo))
    qtbot.mouseClick(panel.form.load_button, Qt.MouseButton.LeftButton)
    await until(lambda: panel.form.files_model.rowCount() > 0)


async def test_generate_end_to_end_as_a_user(qtbot, make_control, runner, sample_repo: Path, tmp_path: Path) -> None:
    async with make_control() as control:
        await _generate_end_to_end(qtbot, control, runner, sample_repo, tmp_path)


async def _generate_end_to_end(qtbot, control, runner, sample_repo: Path, tmp_path: Path) -> None:
    (sample_repo / "tests").mkdir()
    (sample_repo / "tests" / "test_old.py").write_text("def test_x():\n    assert True\n")
    await control.rollouts.apply("full", 100, True)  # agents take GUI requests
    panel = GeneratePanel(control, runner)
    qtbot.addWidget(panel)
    panel.show()
    await load(qtbot, panel, sample_repo)
    items = {panel.form.files_model.item(r).text(): panel.form.files_model.item(r) for r in range(panel.form.files_model.rowCount())}
    assert not items["tests/test_old.py"].isEnabled()  # existing tests are greyed
    assert panel.form.target_spin.value() == 0.85 and panel.form.target_slider.value() == 85
    panel.form.target_slider.setValue(80)
    assert panel.form.target_spin.value() == 0.8
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert "Files: tick at least one" in panel.form.error_text()  # nothing ticked yet, said next to the list
    items["calc.py"].setCheckState(Qt.CheckState.Checked)
    await until(lambda: "search strategy" in panel.form.plan_label.text())
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    await until(lambda: not panel.generate_button.isEnabled())
    await until(lambda: "Elapsed 0:0" in panel.progress_view.progress_label.text())  # elapsed time and an estimate
    assert "left" in panel.progress_view.progress_label.text()
    await until(lambda: panel.generate_button.isEnabled(), timeout_s=180)
    # One measurement, both figures: the repository's own test_old.py imports nothing of calc.py.
    assert "tests</b> · your tests cover <b>0.0%</b>; with the generated ones" in panel.result_view.summary.text(), \
        panel.result_view.summary.text()
    assert panel.progress_view.progress.value() == panel.progress_view.progress.maximum()
    assert panel.progress_view.progress_label.text().startswith("Took ")
    assert panel.progress_view.generators_table.rowCount() >= 1  # what each generator kept, per file
    assert {panel.progress_view.generators_table.item(r, 0).text() for r in range(panel.progress_view.generators_table.rowCount())} == {"calc.py"}
    log = panel.progress_view.log.toPlainText()
    assert "[evolution]" in log and "[reporting]" in log
    assert "def test_" in panel.result_view.tests_view.toPlainText()
    bar = panel.result_view.coverage_table.cellWidget(0, 1)
    assert panel.result_view.coverage_table.item(0, 0).text() == "calc.py" and bar.value() >= 80
    assert panel.result_view.save_button.isEnabled()

    # IDE-like: tests grouped under the function they call, with its coverage; a click shows the code.
    await until(lambda: panel.result_view.outline.topLevelItemCount() == 1)
    top = panel.result_view.outline.topLevelItem(0)
    assert top.text(0) == "calc.py"
    functions = [top.child(i) for i in range(top.childCount())]
    assert any(f.text(0).startswith("clamp (") and f.text(1).endswith(")") for f in functions)
    leaf = next(f.child(0) for f in functions if f.childCount())
    panel.result_view.on_outline_item(leaf)
    assert f"def {leaf.text(0)}(" in panel.result_view.tests_view.textCursor().block().text()

    # Save shows the exact paths first; a second save keeps the user's edited file and says where it went.
    target = tmp_path / "saved"
    panel.result_view.review_save(target)
    await until(lambda: getattr(panel.result_view, "save_dialog", None) is not None and panel.result_view.save_dialog.isVisible())
    dialog = panel.result_view.save_dialog
    assert dialog.table.item(0, 0).text() == str((target / "tests" / "test_generated_calc.py").resolve())
    assert dialog.table.item(0, 1).text() == "new file"
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    await until(lambda: panel.result_view.saved_paths)
    written = [p for p in panel.result_view.saved_paths if p.name != "conftest.py"]
    # The tests, and the one conftest that makes calc importable under plain pytest.
    assert [p.name for p in panel.result_view.saved_paths if p not in written] == ["conftest.py"]
    assert all(p.read_text().startswith('"""Tests for calc') and "sys.path" not in p.read_text() for p in written)
    assert panel.result_view.editor_button.isEnabled()
    written[0].write_text("# my edits\n")
    panel.result_view.save_dialog = None
    panel.result_view.review_save(target)
    await until(lambda: panel.result_view.save_dialog is not None and panel.result_view.save_dialog.isVisible())
    dialog = panel.result_view.save_dialog
    assert dialog.table.item(0, 1).text() == "exists and differs" and dialog.fresh.isChecked()
    dialog.show_diff(dialog.targets[0])
    assert "-# my edits" in dialog.diff_view.toPlainText()
    panel.result_view.saved_paths = []
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    await until(lambda: panel.result_view.saved_paths)
    assert [p.name for p in panel.result_view.saved_paths] == ["test_generated_calc_2.py"]
    assert written[0].read_text() == "# my edits\n"  # nothing lost

    # Run these tests: in the sandbox, pass/fail shown.
    qtbot.mouseClick(panel.result_view.run_button, Qt.MouseButton.LeftButton)
    await until(lambda: "passed" in panel.result_view.run_label.text(), timeout_s=120)
    assert "failed" not in panel.result_view.run_label.text()  # pytest's words: "N passed", nothing else

    await until(lambda: panel.history.model.rowCount() == 1)
    panel.history.text_filter.setText("no-such-repo")
    assert panel.history.proxy.rowCount() == 0
    panel.history.text_filter.setText("")
    panel.history.status_filter.setCurrentText("completed")
    assert panel.history.proxy.rowCount() == 1
    assert panel.form.conversation_combo.count() == 2  # the request can be followed up
    panel.progress_view.log.clear()  # as after a restart: the run log comes back from the database with the request
    panel.on_history_open(panel.history.proxy.index(0, 0).data(Qt.ItemDataRole.UserRole))
    await until(lambda: "[evolution]" in panel.progress_view.log.toPlainText())
    assert "[reporting]" in panel.progress_view.log.toPlainText()


async def test_cancel_a_running_request(qtbot, make_control, runner, sample_repo: Path) -> None:
    async with make_control() as control:
        await _cancel(qtbot, control, runner, sample_repo)


async def _cancel(qtbot, control, runner, sample_repo: Path) -> None:
    await control.rollouts.apply("full", 100, True)
    panel = GeneratePanel(control, runner)
    qtbot.addWidget(panel)
    panel.show()
    await load(qtbot, panel, sample_repo)
    panel.form.set_checked(["calc.py", "text_utils.py"])
    panel.on_generate()
    await until(lambda: panel.current_task not in (None, "submitting"))
    assert panel.cancel_button.isEnabled()
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    await until(lambda: panel.generate_button.isEnabled(), timeout_s=60)
    assert "cancelled by the user" in panel.progress_view.log.toPlainText()
    assert "<b>Failed</b>" in panel.result_view.summary.text() and "cancelled by the user" in panel.result_view.summary.text()


async def test_bad_repository_path_is_a_readable_message(qtbot, make_control, runner, tmp_path: Path,
                                                         capfd) -> None:
    """Empty, a missing folder, a URL that is not a git repository: words next to the field, git's own reason."""
    notgit = tmp_path / "notgit"
    notgit.mkdir()
    async with make_control() as control:
        panel = GeneratePanel(control, runner)
        qtbot.addWidget(panel)
        panel.form.repo_edit.setText("   ")
        panel.form.on_load()
        assert "give a folder or a git URL first" in panel.form.error_text()
        panel.form.repo_edit.setText("/no/such/folder")
        panel.form.on_load()
        await until(lambda: "does not exist" in panel.result_view.summary.text())
        assert "Traceback" not in panel.result_view.summary.text()
        assert "does not exist" in panel.form.error_text()  # and next to the field
        panel.form.repo_edit.setText(f"file://{notgit}")
        panel.form.on_load()
        await until(lambda: "does not appear to be a git repository" in panel.form.error_text())
    assert "Traceback" not in capfd.readouterr().err


def test_the_banner_says_why_code_is_refused_and_how_to_allow_it(qtbot, runner) -> None:
    from engine.isolation import Isolation

    panel = GeneratePanel(None, runner)  # nothing here calls the control
    qtbot.addWidget(panel)
    panel.show()
    assert panel.sandbox_banner.isHidden()
    missing = Isolation(False, None, "bwrap fails here: No permissions to create new namespace", "rlimits")
    panel.show_sandbox(missing, allow_unisolated=False)
    assert panel.sandbox_banner.isVisible()
    assert "Generation is refused" in panel.sandbox_banner.text()
    assert "No permissions to create new namespace" in panel.sandbox_banner.text()
    assert "allow_unisolated to true" in panel.sandbox_banner.text()
    panel.show_sandbox(missing, allow_unisolated=True)
    assert "WITHOUT isolation" in panel.sandbox_banner.text()
    panel.show_sandbox(Isolation(True, "/usr/bin/bwrap", "namespaces", "cgroup v1"), allow_unisolated=False)
    assert panel.sandbox_banner.isHidden()


def test_a_partial_result_says_why_and_what_each_generator_kept(qtbot, runner) -> None:
    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    state = {"task_id": "task-1", "status": "completed", "token_usage": 0, "result": {
        "tests": "def test_a():\n    pass\n", "test_count": 1, "coverage_estimate": 0.5, "branch_coverage": 0.25,
        "coverage_by_file": [], "strategy": "search", "rounds": 1, "outcome": "partial",
        "reason": "measured line coverage 50% is below the target 85% after 1 round(s) (round limit)",
        "generators": [{"generator": "doctest", "kept_tests": 1, "error": None},
                       {"generator": "pynguin mio seed 2001", "kept_tests": 0,
                        "error": "Pynguin produced no tests for calc (exit 1: Failed to compute stacksize)"}]}}
    panel.show_result(state)
    text = panel.result_view.summary.text()
    assert "<b>Partial</b>" in text and "#a35f00" in text and "below the target 85%" in text
    assert "doctest <b>1</b> kept" in text and "pynguin mio seed 2001 <b>0</b> kept" in text
    assert "Failed to compute stacksize" in text  # the reason is in the tooltip of "nothing kept"


def test_the_llm_loop_counts_as_one_generator_and_the_readability_pass_is_reported(qtbot, runner) -> None:
    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    state = {"task_id": "task-1", "status": "completed", "token_usage": 900, "result": {
        "tests": "def test_a():\n    pass\n", "test_count": 5, "coverage_estimate": 0.9, "branch_coverage": 0.8,
        "coverage_by_file": [], "strategy": "llm", "rounds": 1, "outcome": "complete", "reason": "",
        "generators": [{"generator": "llm module", "kept_tests": 3, "error": None, "seconds": 4.0},
                       {"generator": "llm classify", "kept_tests": 0, "error": "no test passed", "seconds": 2.0},
                       {"generator": "llm classify (repair 1)", "kept_tests": 2, "error": None, "seconds": 3.0},
                       {"generator": "crosshair cover", "kept_tests": 1, "error": None, "seconds": 31.0}],
        "polish": {"tests/test_generated_calc_2.py": "names and docstrings by the model",
                   "tests/test_generated_calc_3.py": "left as generated: the rewrite lost coverage"},
        "distil": {"tests/test_generated_calc_2.py": "distilled: 4 tests from 9, checked by 3 runs",
                   "tests/test_generated_calc_3.py": "left as generated: it did not pass as generated (1 failed)"}}}
    panel.show_result(state)
    text = panel.result_view.summary.text()
    assert "llm <b>5</b> kept (3 prompts)" in text and "crosshair cover <b>1</b> kept" in text
    assert "31 s" in text
    assert "Readability pass by the model: 1 of 2 file(s) rewritten" in text
    assert "Distilled (each rewrite rerun 3 times, coverage kept): 1 of 2 file(s)" in text
    assert "(1 left as generated)" in text and "it did not pass as generated" in text  # the reason, in the tooltip


@pytest.mark.parametrize("typed, expected", [("0.80", 0.80), (".8", 0.80), ("0.9", 0.90), ("1", 1.0), ("0.05", 0.05)])
def test_the_coverage_target_takes_what_people_type(qtbot, runner, typed: str, expected: float) -> None:
    """Typing 0.80 gave 0.00 (issue 14): the slider echoed each keystroke back into the box."""
    panel = GeneratePanel(object(), runner)
    qtbot.addWidget(panel)
    panel.show()
    editor = panel.form.target_spin.lineEdit()
    panel.form.target_spin.setFocus()
    editor.selectAll()
    for char in typed:
        qtbot.keyClick(editor, char)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert panel.form.target_spin.value() == pytest.approx(expected)
    assert panel.form.target_slider.value() == round(expected * 100)


def test_a_target_still_being_typed_counts_when_generate_is_pressed(qtbot, runner) -> None:
    panel = GeneratePanel(object(), runner)
    qtbot.addWidget(panel)
    panel.show()
    editor = panel.form.target_spin.lineEdit()
    editor.selectAll()
    qtbot.keyClicks(editor, "0.7")
    panel.on_generate()  # Ctrl+Return from the box: no Enter, no focus change
    assert panel.form.target_spin.value() == pytest.approx(0.7)


def test_a_run_that_kept_nothing_is_shown_failed_with_its_reason(qtbot, runner) -> None:
    """It showed "completed", 0.0 % coverage, "branches 100.0 %" and a full progress bar (issue 14)."""
    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    panel.refresh_history = lambda: None  # no service behind this panel
    panel.current_task = "p2-1"
    state = {"task_id": "p2-1", "status": "completed", "token_usage": 0, "result": {
        "tests": "", "files": {}, "test_count": 0, "coverage_estimate": 0.0, "branch_coverage": 1.0,
        "coverage_by_file": [], "strategy": "search", "rounds": 1,
        "failures": ["Pynguin produced no tests for calc (exit 1: \x1b[31m\u2502 No module named 'dateutil' \u2502)"]}}
    panel.finished(state)
    text = panel.result_view.summary.text()
    assert "<b>Failed</b>" in text and "#d64545" in text
    assert "no test was kept: Pynguin produced no tests for calc (exit 1: No module named &#x27;dateutil&#x27; )" in text
    assert "branches" not in text and "0.0%" not in text
    assert panel.result_view.coverage_table.rowCount() == 0  # no coverage figures for a run that kept nothing
    assert panel.progress_view.progress.value() < panel.progress_view.progress.maximum()
    assert not panel.result_view.save_button.isEnabled()


class FormControl:
    """Just enough of the control center for the form: a repository with two files."""

    def __init__(self) -> None:
        self.generation = self.results = self

    async def inspect_repository(self, url: str):
        from app.generation import RepoFile

        return Path(url), [RepoFile("calc.py", False), RepoFile("text_utils.py", False), RepoFile("tests/t.py", True)]

    async def estimate(self, repository, files):
        return {"strategy": "search", "model": None, "max_tokens": 0, "max_cost_usd": 0.0, "note": ""}

    async def test_outline(self, result):
        return []


@pytest.mark.usefixtures("qapp")
async def test_the_form_remembers_the_last_repository_targets_and_settings(qtbot, runner, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    QSettings().remove("generate")
    first = GeneratePanel(FormControl(), runner)
    qtbot.addWidget(first)
    first.form.repo_edit.setText(str(tmp_path))
    first.form.on_load()
    await until(lambda: first.form.files_model.rowCount() == 3)
    first.form.set_checked(["text_utils.py"])
    first.form.target_spin.setValue(0.7)
    first.form.search_spin.setValue(45)
    assert first.form.mutation_check.text() == "&Mutation score (up to 15 s more)"  # the box the request gets
    first.form.mutation_check.setChecked(False)
    first.form.requirements_edit.setPlainText("edge cases of clamp")
    first.form.remember()

    again = GeneratePanel(FormControl(), runner)  # the next start
    qtbot.addWidget(again)
    again.restore_form()
    assert again.form.repo_edit.text() == str(tmp_path)
    assert again.form.target_spin.value() == pytest.approx(0.7) and again.form.target_slider.value() == 70
    assert again.form.requirements_edit.toPlainText() == "edge cases of clamp"
    assert again.form.search_spin.value() == 45 and not again.form.mutation_check.isChecked()
    await until(lambda: again.form.files_model.rowCount() == 3)
    assert again.form.checked_files() == ["text_utils.py"]


def test_messages_after_a_result_go_to_the_window_not_over_the_summary(qtbot, runner) -> None:
    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    said: list[tuple[str, str]] = []
    panel.message.connect(lambda level, text: said.append((level, text)))
    panel.show_result({"task_id": "t", "status": "completed", "token_usage": 0, "result": {
        "tests": "def test_a():\n    pass\n", "test_count": 1, "coverage_estimate": 0.9, "branch_coverage": 0.8,
        "coverage_by_file": [], "files": {"tests/test_generated_calc.py": "def test_a():\n    pass\n"},
        "outcome": "complete", "reason": "target 85% reached"}})
    summary = panel.result_view.summary.text()
    panel._say("Saved 1 file(s) under /tmp/x.")
    assert panel.result_view.summary.text() == summary  # the result stays
    assert said == [("info", "Saved 1 file(s) under /tmp/x.")]


def test_progress_reads_as_time_coverage_and_generators(qtbot, runner, monkeypatch) -> None:
    """The bar counted agent steps ("5 of 6" in 3 s, then nothing for the long step): issue 14."""
    import ui.generate.progress as progress
    from ui.generate.run_progress import RunProgress

    now = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    panel.progress_view.run = RunProgress(started=1000.0, estimate_s=100.0, target=0.85)
    for agent in ("orchestration", "observation", "requirements", "analysis"):
        panel.on_progress_event(agent, {"message": "…"})
    assert panel.progress_view.progress.value() < 0.1 * progress.PROGRESS_SCALE
    now[0] = 1040.0
    panel.on_progress_event("evolution", {"message": "Round 1: generating tests for calc.py (search)",
                                          "target_file": "calc.py", "round": 1, "search_budget_s": 20})
    panel.on_progress_event("evolution", {"message": "Round 1: doctest: kept 2 of 2 tests (1 s)",
                                          "target_file": "calc.py", "round": 1, "generator": "doctest", "kept": 2,
                                          "seconds": 1.2, "coverage": 0.42})
    now[0] = 1090.0
    panel.progress_view.tick()
    text = panel.progress_view.progress_label.text()
    assert text.startswith("Elapsed 1:30 · about 0:10 left") and "line coverage so far 42% (target 85%)" in text
    assert 0.1 * progress.PROGRESS_SCALE < panel.progress_view.progress.value() < 0.95 * progress.PROGRESS_SCALE
    assert [panel.progress_view.generators_table.item(0, c).text() for c in range(4)] == ["calc.py", "round 1: doctest", "2", "1 s"]
    now[0] = 1200.0
    panel.progress_view.tick()
    assert "taking longer than the estimate" in panel.progress_view.progress_label.text()
    assert panel.progress_view.progress.value() <= 0.95 * progress.PROGRESS_SCALE  # never full before the result


def test_a_streaming_model_shows_tokens_and_rate_without_a_log_line_each(qtbot, runner) -> None:
    """A slow local model looked dead for minutes (issue 16): its answer's growth is shown in the step."""
    from ui.generate.run_progress import RunProgress

    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    panel.progress_view.run = RunProgress(started=1000.0, estimate_s=100.0, target=0.85)
    panel.on_progress_event("evolution", {"message": "Round 1: generating tests for calc.py (llm)"})
    log_before = panel.progress_view.log.toPlainText()
    for tokens in (12, 40):
        panel.on_progress_event("evolution", {
            "message": f"model qwen: {tokens} tokens, 8.2 tokens/s", "live": True,
            "model_stream": {"model": "qwen", "tokens": tokens, "tokens_per_s": 8.2, "waiting_s": 30}})
    assert "evolution · model qwen: 40 tokens, 8.2 tokens/s" in panel.progress_view.progress_label.text()
    assert panel.progress_view.log.toPlainText() == log_before  # not a log line a second
    panel.on_progress_event("evolution", {"message": "llm classify: kept 3 of 4 tests"})
    assert "tokens/s" not in panel.progress_view.progress_label.text()  # the answer is in; the step moved on


@pytest.mark.usefixtures("qapp")
async def test_generating_again_when_the_target_is_met_on_screen_asks_first(qtbot, runner, tmp_path: Path) -> None:
    panel = GeneratePanel(FormControl(), runner)
    qtbot.addWidget(panel)
    panel.repository = tmp_path
    panel.form.files_model.appendRow(__import__("PySide6.QtGui", fromlist=["QStandardItem"]).QStandardItem("calc.py"))
    item = panel.form.files_model.item(0)
    item.setCheckable(True)
    item.setCheckState(Qt.CheckState.Checked)
    panel.show_result({"task_id": "t", "status": "completed", "token_usage": 0, "result": {
        "tests": "def test_a():\n    pass\n", "test_count": 1, "coverage_estimate": 1.0, "branch_coverage": 1.0,
        "coverage_by_file": [{"path": "calc.py", "line_rate": 1.0, "branch_rate": 1.0, "lines_covered": 4,
                              "lines_total": 4, "missing_lines": []}],
        "files": {"tests/test_generated_calc.py": "def test_a():\n    pass\n"}, "repository": str(tmp_path),
        "outcome": "complete", "reason": "target 85% reached"}})
    panel.on_generate()
    assert panel.current_task is None  # nothing submitted: it asks first
    assert "already reach 100%" in panel._met_box.text() and "not saved" in panel._met_box.text()
    panel._met_box.done(QMessageBox.StandardButton.Cancel)
    assert panel.current_task is None


async def test_history_is_read_again_each_time_its_tab_is_shown(qtbot, runner) -> None:
    """Requests from the REST API or the CLI appear without pressing Refresh."""
    import datetime

    class Requests:  # what the app's service answers: the rows grow between two looks
        rows: list[dict] = []

        @property
        def generation(self):
            return self

        async def history(self) -> list[dict]:
            return list(self.rows)

    service = Requests()
    panel = GeneratePanel(service, runner)
    qtbot.addWidget(panel)
    panel.show()
    service.rows = [{"created_at": datetime.datetime(2026, 12, 2, 19, 46), "repository": "/srv/slugify",
                     "files": ["slugify/slugify.py"], "route": "agents", "status": "completed", "coverage": 0.93,
                     "task_id": "task-api-1"}]
    panel.tabs.setCurrentIndex(panel.history_tab_index)
    await until(lambda: panel.history.model.rowCount() == 1)
    assert panel.history.model.item(0, 1).text() == "/srv/slugify"
    panel.tabs.setCurrentIndex(0)
    service.rows = service.rows * 2
    panel.tabs.setCurrentIndex(panel.history_tab_index)
    await until(lambda: panel.history.model.rowCount() == 2)


@pytest.mark.usefixtures("qapp")
async def test_a_search_time_out_of_range_is_said_next_to_the_field(qtbot, runner, tmp_path: Path, capfd) -> None:
    """The same sentence as the CLI and the API's 422; nothing is submitted and nothing goes to stderr."""
    panel = GeneratePanel(FormControl(), runner)
    qtbot.addWidget(panel)
    panel.show()
    panel.form.repo_edit.setText(str(tmp_path))
    panel.form.on_load()
    await until(lambda: panel.form.files_model.rowCount() == 3)
    panel.form.set_checked(["calc.py"])
    panel.form.search_spin.setValue(2)
    qtbot.keyClick(panel, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    label = panel.form.errors["search_time_s"]
    assert label.isVisible() and label.toolTip() == "search_time_s: must be from 5 to 600 seconds, got 2"
    assert panel.current_task is None and panel.generate_button.isEnabled()
    panel.form.search_spin.setValue(30)  # fixing the value takes the message away
    assert not label.isVisible()
    panel.form.target_spin.setValue(0.0)
    panel.on_generate()
    assert panel.form.errors["coverage_target"].toolTip() == "coverage_target: must be above 0 and at most 1, got 0"
    # Every other input with a bad value (issue 26): typed negatives, NaN and huge numbers never reach the
    # request; what can be typed is said next to its field; nothing is submitted.
    for typed in ("-0.5", "nan", "1e9"):
        panel.form.target_spin.lineEdit().selectAll()
        qtbot.keyClicks(panel.form.target_spin.lineEdit(), typed)
        panel.form.target_spin.interpretText()
        assert 0 <= panel.form.target_spin.value() <= 1, typed
    panel.form.target_spin.setValue(0.8)
    panel.form.search_spin.setValue(panel.form.search_spin.maximum())
    panel.on_generate()
    assert "search_time_s: must be from 5 to 600 seconds" in panel.form.errors["search_time_s"].toolTip()
    panel.form.search_spin.setValue(0)
    panel.on_generate()
    assert "got 0" in panel.form.errors["search_time_s"].toolTip()
    panel.form.search_spin.setValue(30)
    panel.form.requirements_edit.setPlainText("x" * 100_001)
    panel.on_generate()
    assert "requirements" in panel.form.errors["requirements"].toolTip(), panel.form.error_text()
    panel.form.requirements_edit.setPlainText("edge cases of clamp")
    panel.form.set_checked([])
    panel.on_generate()
    assert "tick at least one Python file" in panel.form.errors["target_files"].toolTip()
    assert panel.current_task is None
    assert capfd.readouterr().err == ""


@pytest.mark.usefixtures("qapp")
async def test_all_modules_without_tests_asks_for_the_whole_repository(qtbot, runner, tmp_path: Path) -> None:
    """The request names no file ("*"), the ticks are kept but greyed, and the choice is remembered."""
    from PySide6.QtCore import QSettings

    QSettings().remove("generate")
    panel = GeneratePanel(FormControl(), runner)
    qtbot.addWidget(panel)
    panel.show()
    panel.form.repo_edit.setText(str(tmp_path))
    panel.form.on_load()
    await until(lambda: panel.form.files_model.rowCount() == 3)
    assert panel.form.request(tmp_path) is None  # nothing ticked, nothing chosen: said next to the files
    assert "All modules without tests (Alt+A)" in panel.form.errors["target_files"].toolTip()
    panel.form.set_checked(["calc.py"])
    assert panel.form.whole_check.text() == "&All modules without tests"  # Alt+A
    panel.form.whole_check.click()
    assert panel.form.whole_check.isChecked() and not panel.form.files_view.isEnabled()
    request = panel.form.request(tmp_path)
    assert request is not None and request.whole_repository and request.target_files == []
    panel.form.remember()
    again = GeneratePanel(FormControl(), runner)
    qtbot.addWidget(again)
    again.restore_form()
    assert again.form.whole_check.isChecked()
    again.form.whole_check.setChecked(False)  # back to the ticked files, as they were
    await until(lambda: again.form.files_model.rowCount() == 3)
    assert again.form.files_view.isEnabled() and again.form.checked_files() == ["calc.py"]


def test_several_files_get_a_total_row_and_added_dependencies_are_said(qtbot, runner) -> None:
    """A whole repository's result: every file, then all of them (statements over statements); what was installed."""
    panel = GeneratePanel(None, runner)
    qtbot.addWidget(panel)
    rows = [{"path": p, "line_rate": c / t, "branch_rate": 1.0, "lines_covered": c, "lines_total": t,
             "branches_covered": 2, "branches_total": 2} for p, c, t in (("a.py", 9, 10), ("b.py", 1, 30))]
    state = {"task_id": "task-2", "status": "completed", "token_usage": 0, "result": {
        "tests": "", "test_count": 3, "coverage_estimate": 0.25, "branch_coverage": 1.0, "coverage_by_file": rows,
        "strategy": "search", "rounds": 1, "outcome": "partial", "reason": "below the target",
        "added_dependencies": ["python-dateutil for 'import dateutil' (a.py), declared nowhere"]}}
    panel.show_result(state)
    table = panel.result_view.coverage_table
    assert table.rowCount() == 3 and table.item(2, 0).text() == "All 2 files"
    assert table.cellWidget(2, 1).format() == "25% (10/40)" and table.item(2, 3).text() == ""
    assert "Added python-dateutil for" in panel.result_view.summary.text()
