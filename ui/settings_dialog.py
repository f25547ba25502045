"""The Settings dialog (Ctrl+,): the agent toggle, model, endpoint, key, budget.

Values go to ``system_config`` (shared by every process) and the key to the
OS keyring; the dialog only ever shows whether a key is stored.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from ui.async_bridge import AsyncRunner


class SettingsDialog(QDialog):
    """Signals:
        saved(): the settings were stored.
    """

    saved = Signal()

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self.control = control
        self.runner = runner
        self.rollout: Any = None  # the rollout in force, once loaded
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.agents_toggle = QCheckBox("Use the multi-agent system for test generation (Beta)")
        self.agents_toggle.setToolTip("system_config.agents_enabled; AGENTS_ENABLED=false in the environment overrides it")
        form.addRow("Enable AI agents:", self.agents_toggle)
        self.killed_label = QLabel("")
        self.killed_label.setWordWrap(True)
        form.addRow("", self.killed_label)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        form.addRow("Primary LLM model:", self.model_combo)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("http://127.0.0.1:8080/v1 (any OpenAI-compatible endpoint)")
        form.addRow("Base URL:", self.base_url)
        key_row = QHBoxLayout()
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("type a new key to store it; leave empty to keep")
        self.key_state = QLabel("")
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.key_state)
        form.addRow("API key:", key_row)
        self.budget = QSpinBox()
        self.budget.setRange(10_000, 10_000_000)
        self.budget.setSingleStep(10_000)
        self.budget.setGroupSeparatorShown(True)
        self.budget.setSuffix(" tokens/day")
        form.addRow("Daily token budget:", self.budget)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 100)
        form.addRow("Max concurrent tasks:", self.concurrency)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        form.addRow("", test_row)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.on_save)
        self.buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.on_test)
        self._load()

    def _load(self) -> None:
        keyring_state = self.control.keyring_state()
        if not keyring_state["usable"]:
            self.key_state.setText("No OS keyring here: set LLM_API_KEY instead")
            self.api_key.setEnabled(False)
        else:
            self.key_state.setText("a key is stored" if keyring_state["stored"] else "no key stored")

        async def fetch() -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
            return await self.control.system_config(), await self.control.rollouts.state(), await self.control.prices()

        self.runner.run(fetch(), self._fill, self.message.setText)

    def _fill(self, data: tuple[dict[str, str], dict[str, Any], dict[str, Any]]) -> None:
        values, rollout, prices = data
        self.model_combo.clear()
        for name, price in sorted(prices.items()):
            self.model_combo.addItem(f"{name} ({price.label()})", name)
        self.agents_toggle.setChecked(values.get("agents_enabled") == "true")
        self.rollout = rollout
        self.agents_toggle.toggled.connect(self._explain_toggle)
        self._explain_toggle(self.agents_toggle.isChecked())
        model = values.get("llm_model", "gpt-4o-mini")
        index = self.model_combo.findData(model)
        if index < 0:
            self.model_combo.addItem(model, model)
            index = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(index)
        if not self.base_url.isModified():  # never clobber what the user typed meanwhile
            self.base_url.setText(values.get("llm_base_url", ""))
        self.budget.setValue(int(values.get("daily_token_budget", 1_000_000)))
        self.concurrency.setValue(int(values.get("max_concurrent_tasks", 5)))

    def _explain_toggle(self, on: bool) -> None:
        """What the toggle does together with the rollout mode (on while the mode is off did nothing
        visible, and nothing said why: issue 14)."""
        if self.rollout is None:
            return
        state = replace(self.rollout, flag=on, agents_enabled=on and not self.rollout.killed)
        hint = ""
        if on and state.mode == "off" and not state.killed:
            hint = " Choose a mode on the Rollout panel (Ctrl+4) to send requests to the agents."
        self.killed_label.setText(f"With this setting: {state.where}{hint}")

    def selected_model(self) -> str:
        data = self.model_combo.currentData()
        text = self.model_combo.currentText()
        return data if data and text.startswith(data) else text.split(" (")[0].strip()

    def on_save(self) -> None:
        changes = {
            "agents_enabled": "true" if self.agents_toggle.isChecked() else "false",
            "llm_model": self.selected_model(),
            "llm_base_url": self.base_url.text().strip(),
            "daily_token_budget": str(self.budget.value()),
            "max_concurrent_tasks": str(self.concurrency.value()),
        }
        key = self.api_key.text()

        async def store() -> None:
            for k, v in changes.items():
                await self.control.set_system_config(k, v)
            if key:
                self.control.store_api_key(key)

        self.runner.run(store(), self._saved, lambda m: self.message.setText(f'<span style="color:#d64545">{m}</span>'))

    def _saved(self, _result: Any) -> None:
        self.saved.emit()
        self.accept()

    def on_test(self) -> None:
        url = self.base_url.text().strip()
        if not url:
            self.test_result.setText("Base URL: give the endpoint to test first.")
            return
        self.test_result.setText("Testing…")
        self.runner.run(self.control.test_connection(url, self.api_key.text() or None, self.selected_model()),
                        self.test_result.setText, self.test_result.setText)
