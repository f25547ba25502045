"""Agents, Costs, Rollout, Settings panels and the Settings dialog, driven as a user would."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from app import router
from tests.ui.helpers import SignalCatcher, until
from ui.panels.agents import AgentsPanel
from ui.panels.costs import CostsPanel, gauge_state
from ui.panels.rollout import RolloutPanel
from ui.panels.settings import SettingsPanel
from ui.settings_dialog import SettingsDialog


async def test_settings_dialog_agent_toggle_changes_system_config(qtbot, make_control, runner) -> None:
    async with make_control() as control:
        pool = control.core.pool
        assert await pool.fetchval("SELECT value FROM system_config WHERE key = 'agents_enabled'") == "false"
        dialog = SettingsDialog(control, runner)
        qtbot.addWidget(dialog)
        dialog.show()
        await until(lambda: dialog.budget.value() == 1_000_000)
        assert "No OS keyring here" in dialog.key_state.text() or "key" in dialog.key_state.text()
        qtbot.mouseClick(dialog.agents_toggle, Qt.MouseButton.LeftButton)
        assert dialog.agents_toggle.isChecked()
        # On while the rollout mode is off: it says that requests still go to Phase 2, and where to go.
        assert "New requests go to Phase 2: rollout mode off" in dialog.killed_label.text()
        assert "Rollout panel" in dialog.killed_label.text()
        dialog.budget.setValue(250_000)
        dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("gpt-4o"))
        saved = SignalCatcher(dialog.saved)
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        await saved.wait()
        assert not dialog.isVisible()
        values = dict(await pool.fetch("SELECT key, value FROM system_config"))
        assert values["agents_enabled"] == "true"
        assert values["daily_token_budget"] == "250000" and values["llm_model"] == "gpt-4o"
        assert (await control.rollouts.state()).agents_enabled
        assert values["llm_profile"] == "hosted" and values["llm_stall_timeout_s"] == ""  # untouched: profile's


async def test_settings_dialog_says_bad_values_next_to_their_field_and_stores_none(
        qtbot, make_control, runner, capfd) -> None:
    """Every input with a bad value: words in the dialog, nothing stored, nothing on stderr (issue 26)."""
    async with make_control() as control:
        pool = control.core.pool
        before = dict(await pool.fetch("SELECT key, value FROM system_config"))
        dialog = SettingsDialog(control, runner)
        qtbot.addWidget(dialog)
        dialog.show()
        await until(lambda: dialog.budget.value() == 1_000_000)
        dialog.agents_toggle.setChecked(True)  # a good edit beside the bad ones is not stored either
        dialog.model_combo.setEditText("")
        dialog.base_url.setText("not a url")
        # Numbers cannot be typed out of range, negative or NaN: the boxes refuse the keys.
        for box, typed in ((dialog.budget, "-5"), (dialog.concurrency, "nan"), (dialog.max_tokens, "99999999"),
                           (dialog.first_token, "-1")):
            box.lineEdit().selectAll()
            qtbot.keyClicks(box.lineEdit(), typed)
            box.interpretText()
            assert box.minimum() <= box.value() <= box.maximum(), (box, typed)
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        assert dialog.isVisible()
        assert "llm_model" in dialog.errors["llm_model"].text() and "must not be empty" in dialog.errors[
            "llm_model"].text()
        assert dialog.errors["llm_base_url"].isVisible()
        assert "expected an http(s) URL" in dialog.errors["llm_base_url"].text()
        assert "Not saved" in dialog.message.text()
        await until(lambda: True)
        assert dict(await pool.fetch("SELECT key, value FROM system_config")) == before
        qtbot.keyClicks(dialog.base_url, "x")  # editing the field takes its message away
        assert not dialog.errors["llm_base_url"].isVisible()
        assert capfd.readouterr().err == ""


async def test_settings_dialog_sets_the_local_profile_and_overrides(qtbot, make_control, runner) -> None:
    """A slow local model needs longer waits than the fixed 60 s (issue 16): a profile, and overrides."""
    async with make_control() as control:
        pool = control.core.pool
        dialog = SettingsDialog(control, runner)
        qtbot.addWidget(dialog)
        dialog.show()
        await until(lambda: dialog.budget.value() == 1_000_000)
        assert dialog.stall.text() == "profile's" and "hosted profile" in dialog.limits_summary.text()
        dialog.profile.setCurrentIndex(dialog.profile.findData("local"))
        assert "local profile: first token within 120 s + the prompt at 5 tokens/s" in dialog.limits_summary.text()
        assert "never re-sent after a time-out" in dialog.limits_summary.text()
        dialog.stall.setValue(300)
        assert "at most 300 s of silence" in dialog.limits_summary.text()
        saved = SignalCatcher(dialog.saved)
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        await saved.wait()
        values = dict(await pool.fetch("SELECT key, value FROM system_config"))
        assert (values["llm_profile"], values["llm_stall_timeout_s"], values["llm_first_token_timeout_s"]) == (
            "local", "300", "")
        again = SettingsDialog(control, runner)  # the stored values come back
        qtbot.addWidget(again)
        await until(lambda: again.stall.value() == 300)
        assert again.profile.currentData() == "local" and again.retries.text() == "profile's"


async def test_settings_dialog_test_connection_reports_the_answer(qtbot, make_control, runner, scripted_llm) -> None:
    async with make_control() as control:
        dialog = SettingsDialog(control, runner)
        qtbot.addWidget(dialog)
        qtbot.keyClicks(dialog.base_url, scripted_llm.base_url)  # typed before the stored values load
        await until(lambda: dialog.budget.value() == 1_000_000)
        assert dialog.base_url.text() == scripted_llm.base_url
        dialog.on_test()
        await until(lambda: dialog.test_result.text().startswith("OK"))
        scripted_llm.script = [{"status": 401}]
        dialog.on_test()
        await until(lambda: "answered 401" in dialog.test_result.text())
        dialog.base_url.setText("http://127.0.0.1:9/v1")
        dialog.on_test()
        await until(lambda: dialog.test_result.text().startswith("No answer from"))


async def test_rollout_one_state_reviewed_changes_audit_and_rollback(qtbot, make_control, runner) -> None:
    async with make_control() as control:
        pool, config = control.core.pool, control.core.config
        panel = RolloutPanel(control, runner)
        qtbot.addWidget(panel)
        panel.show()
        await until(lambda: "New requests go" in panel.state_label.text())
        assert "the agents are switched off" in panel.state_label.text()
        assert not panel.slider.isEnabled() and not panel.spin.isEnabled()  # mode off: the share means nothing
        keys = [f"user-{i}" for i in range(100)]

        async def share() -> float:
            routes = [(await router.decide(pool, config, k)).route for k in keys]
            return routes.count("agents") / len(keys)

        applied = SignalCatcher(panel.rollout_applied)
        panel.mode_combo.setCurrentText("percentage")
        assert panel.slider.isEnabled()
        panel.slider.setValue(100)
        assert panel.spin.value() == 100 and panel.apply_button.isEnabled()
        assert await share() == 0.0  # nothing is live before it is reviewed
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel._confirm is not None and panel._confirm.isVisible())
        text = panel._confirm.text()
        assert "rollout_mode: off → percentage" in text and "rollout_percentage: 0 → 100" in text
        assert "agents_enabled: false → true" in text
        panel._confirm.done(QMessageBox.StandardButton.Apply)
        await until(lambda: applied.calls and applied.calls[-1] == ("percentage", 100))
        assert await share() == 1.0
        await until(lambda: panel.audit.rowCount() == 3)
        changes = [panel.audit.item(r, 1).text() for r in range(3)]
        assert "agents_enabled: false → true" in changes
        assert "pid" in panel.audit.item(0, 2).text() and "gui" in panel.audit.item(0, 2).text()
        assert panel.audit.item(0, 3).text().startswith("1/1")
        assert panel.audit.item(0, 3).toolTip().startswith("The change reached 1 of 1 processes")
        await until(lambda: "100 % of new requests go to the agents" in panel.state_label.text())

        five = next(b for b in panel.preset_buttons if b.text() == "5 %")
        assert "Sprint 8" in five.toolTip()
        panel._confirm = None
        qtbot.mouseClick(five, Qt.MouseButton.LeftButton)
        await until(lambda: panel._confirm is not None and panel._confirm.isVisible())
        panel._confirm.done(QMessageBox.StandardButton.Apply)
        await until(lambda: applied.calls[-1] == ("percentage", 5))
        assert (await control.rollouts.state()).percentage == 5

        panel.mode_combo.setCurrentText("full")
        assert not panel.slider.isEnabled()
        panel._confirm = None
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel._confirm is not None and panel._confirm.isVisible())
        panel._confirm.done(QMessageBox.StandardButton.Cancel)  # cancelled: the editors go back
        await until(lambda: panel.mode_combo.currentText() == "percentage")
        assert (await control.rollouts.state()).mode == "percentage"

        panel._confirm = None
        qtbot.mouseClick(panel.rollback_button, Qt.MouseButton.LeftButton)
        box = panel._confirm
        assert "Turn the agents off" in box.text()
        rolled_back = SignalCatcher(panel.rolled_back)
        box.done(QMessageBox.StandardButton.Yes)
        (report,) = await rolled_back.wait()
        assert report["reached"] == report["processes"] >= 1
        assert "Agents off. The change reached 1 of 1 processes" in panel.rollback_label.text()
        assert await share() == 0.0
        await until(lambda: "switched off. Once switched on, 5 % will then go to the agents" in panel.state_label.text())
        await until(lambda: panel.audit.item(0, 1).text() == "agents_enabled: true → false")
        await until(lambda: panel.alerts.rowCount() == 6)
        assert panel.alerts.item(0, 0).text() == "Agent availability"
    # The refresh timer's tick after the services stopped (the app closing) is a line, not a traceback.
    panel.refresh()
    assert "The services are stopped" in panel.rollback_label.text()


async def test_settings_panel_typed_editors_prices_salt_and_links(qtbot, make_control, runner) -> None:
    async with make_control() as control:
        panel = SettingsPanel(control, runner)
        qtbot.addWidget(panel)
        panel.load()
        await until(lambda: panel.prices.rowCount() > 0)
        assert panel.timeout.value() == 60 and panel.timeout.minimum() == 1  # 0 cannot even be typed
        assert "gpt-4o-mini" in panel.price_table() and panel.price_table()["gpt-4o-mini"] == (0.15, 0.6)
        assert "agents off: every request goes to Phase 2" in panel.rollout_summary.text()
        assert "1,000,000 tokens a day" in panel.model_summary.text()

        # A refused value is named, and the edit stays.
        panel.salt.setText("")
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
        await until(lambda: "Not saved" in panel.message.text())
        assert "rollout_salt" in panel.message.text() and "must not be empty" in panel.message.text()
        assert panel.edits()[1] == {"rollout_salt": ""}
        old_salt = (await control.settings.system_config())["rollout_salt"]
        qtbot.mouseClick(panel.regenerate, Qt.MouseButton.LeftButton)
        assert panel.salt.text() and panel.salt.text() != old_salt

        # A price table per model, input and output apart.
        qtbot.mouseClick(panel.add_price, Qt.MouseButton.LeftButton)
        row = panel.prices.rowCount() - 1
        panel.prices.item(row, 0).setText("qwen2.5-coder-local")
        panel.prices.cellWidget(row, 2).setValue(0.5)
        panel.timeout.setValue(45)
        # The browser backend: what auto comes to here is said, and a choice is stored (issue 15).
        assert panel.backend.currentData() == "auto"
        assert panel.backend_note.text().startswith("Auto: STAGEHAND_API_KEY is unset, so our own healer")
        panel.backend.setCurrentIndex(panel.backend.findData("stagehand"))
        assert panel.backend_note.text().startswith("Stagehand needs a model and none is configured")
        saved = SignalCatcher(panel.saved)
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
        await saved.wait()
        stored = await control.settings.execution_settings()
        assert stored["timeout_seconds"] == 45 and stored["browser_backend"] == "stagehand"
        prices = await control.settings.prices()
        assert (prices["qwen2.5-coder-local"].input_per_mtok, prices["qwen2.5-coder-local"].output_per_mtok) == (0, 0.5)
        assert (await control.settings.system_config())["rollout_salt"] == panel.salt.text()

        panel.retries.setValue(7)
        qtbot.mouseClick(panel.revert_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel.edits() == ({}, {}))
        went = SignalCatcher(panel.rollout_requested)
        next(b for b in panel.findChildren(QPushButton) if b.text().startswith("Rollout panel")).click()
        assert went.calls

        # Switched on elsewhere (the Rollout panel): shown again, the panel says so (issue 26), and an
        # edit in progress stays.
        panel.retries.setValue(6)
        await control.rollouts.apply("full", 100, True)
        panel.hide()
        panel.show()
        await until(lambda: "agents on, full: every request goes to the agents" in panel.rollout_summary.text())
        assert panel.retries.value() == 6


async def test_agents_panel_lists_filters_starts_and_drains(qtbot, make_control, runner) -> None:
    async with make_control() as control:
        panel = AgentsPanel(control, runner, refresh_ms=200)
        qtbot.addWidget(panel)
        panel.show()
        await until(lambda: panel.proxy.rowCount() == 6)
        panel.type_combo.setCurrentIndex(panel.type_combo.findData("evolution"))
        assert panel.proxy.rowCount() == 1
        panel.type_combo.setCurrentIndex(0)
        panel.start_type.setCurrentIndex(panel.start_type.findData("evolution"))
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel.proxy.rowCount() == 7)
        panel.filter_edit.setText("evolution")
        await until(lambda: panel.proxy.rowCount() == 2)
        panel.table.selectRow(0)
        victim = panel.selected_agent()
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel.message.text() == f"Stopped {victim}")
        rows = {r["agent_id"]: r for r in await control.fleet.agents()}
        assert rows[victim]["status"] == "shutting_down"


def test_budget_gauge_turns_amber_then_red() -> None:
    assert gauge_state(0.5) == "ok"
    assert gauge_state(0.8) == "amber"
    assert gauge_state(1.0) == "red"


async def test_costs_panel_shows_the_budget(qtbot, make_control, runner) -> None:
    async with make_control() as control:
        from agents.constants import budget_key
        from agents.llm_budget import today

        await control.core.redis.set(budget_key(today()), 850_000)
        panel = CostsPanel(control, runner, refresh_ms=100)
        qtbot.addWidget(panel)
        panel.show()
        await until(lambda: panel.gauge_state == "amber")
        assert "850,000 of 1,000,000 tokens today (85%)" == panel.gauge.format()
        await control.core.redis.set(budget_key(today()), 1_000_000)
        await until(lambda: panel.gauge_state == "red")
