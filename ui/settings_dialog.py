"""The Settings dialog (Ctrl+,): the agent toggle, model, endpoint, key, budget, call limits.

Values go to ``system_config`` (shared by every process) and the key to the
OS keyring; the dialog only ever shows whether a key is stored.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import system_config
from engine.errors import ConfigError
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
        # A bad value is said under its field, in the words the API and the CLI use (app/system_config.py).
        self.errors = {key: self._error_label() for key in ("llm_model", "llm_base_url")}
        form.addRow("", self.errors["llm_model"])
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("http://127.0.0.1:8080/v1 (any OpenAI-compatible endpoint)")
        form.addRow("Base URL:", self.base_url)
        form.addRow("", self.errors["llm_base_url"])
        self.base_url.textEdited.connect(lambda _t: self.errors["llm_base_url"].hide())
        self.model_combo.editTextChanged.connect(lambda _t: self.errors["llm_model"].hide())
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
        self._limit_rows(form)
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

    @staticmethod
    def _error_label() -> QLabel:
        label = QLabel("")
        label.setWordWrap(True)
        label.setStyleSheet("color: #d64545")
        label.hide()
        return label

    def _limit_rows(self, form: QFormLayout) -> None:
        """Time-outs, retries and answer length: a profile, and overrides left at "profile's" by default.

        A local model on a small machine needs minutes to read a long prompt; with the hosted
        profile's 60 s it never answered (issue 16)."""
        self.profile = QComboBox()
        self.profile.addItem("Hosted model: answers start within a minute", "hosted")
        self.profile.addItem("Local model (llama.cpp, Ollama, vLLM): waits grow with the prompt, no blind re-sends",
                             "local")
        form.addRow("Model speed profile:", self.profile)
        self.first_token = QDoubleSpinBox()
        self.first_token.setRange(0, 3600)
        self.first_token.setDecimals(0)
        self.first_token.setSuffix(" s")
        self.stall = QDoubleSpinBox()
        self.stall.setRange(0, 3600)
        self.stall.setDecimals(0)
        self.stall.setSuffix(" s")
        self.retries = QSpinBox()
        self.retries.setRange(-1, 10)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 65_536)
        self.max_tokens.setSingleStep(256)
        self.max_tokens.setGroupSeparatorShown(True)
        for box in (self.first_token, self.stall, self.retries, self.max_tokens):
            box.setSpecialValueText("profile's")
        self.first_token.setToolTip("How long to wait for the first token (the local profile adds the prompt's "
                                    "reading time). llm_first_token_timeout_s; LLM_FIRST_TOKEN_TIMEOUT_S wins.")
        self.stall.setToolTip("How long a streamed answer may stay silent. llm_stall_timeout_s; "
                              "LLM_STALL_TIMEOUT_S wins.")
        self.retries.setToolTip("Re-sends after 429s, 5xx answers and refused connections. llm_max_retries; "
                                "LLM_MAX_RETRIES wins.")
        self.max_tokens.setToolTip("The longest answer a call may ask for. llm_max_tokens; LLM_MAX_TOKENS wins.")
        grid = QGridLayout()
        for n, (label, box) in enumerate((("First token within", self.first_token), ("Silence allowed", self.stall),
                                          ("Re-sends", self.retries), ("Longest answer", self.max_tokens))):
            box.setMinimumWidth(120)
            grid.addWidget(QLabel(label), n // 2, (n % 2) * 2)
            grid.addWidget(box, n // 2, (n % 2) * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        form.addRow("Limits:", grid)
        self.limits_summary = QLabel("")
        self.limits_summary.setWordWrap(True)
        self.limits_summary.setStyleSheet("color: #5a5a5a")
        form.addRow("", self.limits_summary)
        self.profile.currentIndexChanged.connect(self._show_limits)
        for box in (self.first_token, self.stall, self.retries, self.max_tokens):
            box.valueChanged.connect(self._show_limits)

    def limit_values(self) -> dict[str, str]:
        """The dialog's limits as system_config values ("" for the profile's)."""
        def text(box: QSpinBox | QDoubleSpinBox) -> str:
            return "" if box.value() == box.minimum() else f"{box.value():g}"

        return {"llm_profile": self.profile.currentData(), "llm_first_token_timeout_s": text(self.first_token),
                "llm_stall_timeout_s": text(self.stall), "llm_max_retries": text(self.retries),
                "llm_max_tokens": text(self.max_tokens)}

    def _show_limits(self) -> None:
        env = self.control.settings.llm_limits_env()
        summary = self.control.settings.describe_llm_limits({**self.limit_values(), **env})
        if env:
            summary += (" — set in the environment, which wins: "
                        + ", ".join(f"{k.upper()}={v}" for k, v in sorted(env.items())))
        self.limits_summary.setText(summary)
        self.adjustSize()

    def _fill_limits(self, values: dict[str, str]) -> None:
        self.profile.setCurrentIndex(max(0, self.profile.findData(values.get("llm_profile") or "hosted")))
        for key, box in (("llm_first_token_timeout_s", self.first_token), ("llm_stall_timeout_s", self.stall),
                         ("llm_max_retries", self.retries), ("llm_max_tokens", self.max_tokens)):
            raw = (values.get(key) or "").strip()
            box.setValue(box.minimum() if not raw else type(box.value())(float(raw)))
        self._show_limits()

    def _load(self) -> None:
        keyring_state = self.control.settings.keyring_state()
        if not keyring_state["usable"]:
            self.key_state.setText("No OS keyring here: set LLM_API_KEY instead")
            self.api_key.setEnabled(False)
        else:
            self.key_state.setText("a key is stored" if keyring_state["stored"] else "no key stored")

        async def fetch() -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
            return await self.control.settings.system_config(), await self.control.rollouts.state(), await self.control.settings.prices()

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
        self._fill_limits(values)
        self.adjustSize()  # the wrapped explanations grew: make room rather than overlap

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
            **self.limit_values(),
        }
        key = self.api_key.text()
        problems = {}
        for name, value in changes.items():  # all checked before any is stored: never half a save
            try:
                changes[name] = system_config.validate(name, value)
            except ConfigError as exc:
                problems[name] = str(exc)
        if problems:
            for name, text in problems.items():
                label = self.errors.get(name)
                if label is not None:
                    label.setText(text)
                    label.show()
            unplaced = [text for name, text in problems.items() if name not in self.errors]
            self.message.setText(f'<span style="color:#d64545">Not saved: {escape("; ".join(unplaced))}</span>'
                                 if unplaced else '<span style="color:#d64545">Not saved: see the field marked in '
                                                  "red.</span>")
            return

        async def store() -> None:
            for k, v in changes.items():
                await self.control.settings.set_system_config(k, v)
            if key:
                self.control.settings.store_api_key(key)

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
        wait = self.control.settings.first_token_wait_s({**self.limit_values(), **self.control.settings.llm_limits_env()})
        self.runner.run(self.control.settings.test_connection(url, self.api_key.text() or None, self.selected_model(), wait),
                        self.test_result.setText, self.test_result.setText)
