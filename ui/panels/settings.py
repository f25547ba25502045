"""Settings: the engine's settings, model prices and the rollout salt, each with an editor of its type.

The panel used to be two raw key/value tables: database keys such as
``rollout_salt``, prices as JSON typed as text, and the same settings as
the Settings dialog and the Rollout panel (issue 14). Now every setting
has one place: what belongs to the dialog (model, endpoint, key, budget,
concurrency) or to the Rollout panel (agents on/off, mode, share) is shown
here read-only with a button to go there. Edits stay until saved; a value
the service refuses is named with its reason and nothing typed is lost.
"""

from __future__ import annotations

import secrets
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from ui.async_bridge import AsyncRunner

# Stored value -> what the user reads: the raw "tier1_to_tier2_to_tier3" said nothing (issue 26).
STRATEGIES = {
    "tier1_only": "Run as written only (tier 1)",
    "tier1_to_tier2": "Run, then heal a broken test (tiers 1-2)",
    "tier1_to_tier2_to_tier3": "Run, heal, then an AI agent carries out its intent (tiers 1-3)",
}


def traffic_summary(c: dict[str, str]) -> str:
    """Where new requests go, in words, from the stored agents_enabled / rollout_mode / rollout_percentage."""
    mode = c.get("rollout_mode", "off")
    if c.get("agents_enabled") != "true":
        return f"agents off: every request goes to Phase 2 (mode {mode})"
    return {
        "off": "agents on, mode off: every request still goes to Phase 2",
        "shadow": "agents on, shadow: Phase 2 answers, the agents run beside it for comparison",
        "percentage": f"agents on, percentage: {c.get('rollout_percentage', '0')} % of repositories go to the agents",
        "full": "agents on, full: every request goes to the agents",
    }.get(mode, f"agents on, mode {mode}")


def _link_row(form: QFormLayout, label: str, button_text: str, signal: Any) -> QLabel:
    """A setting that lives elsewhere: its current value, and a button that goes there."""
    summary = QLabel("")
    summary.setWordWrap(True)  # the model line ran past the button at 1180x760
    button = QPushButton(button_text)
    button.clicked.connect(signal)
    row = QHBoxLayout()
    row.addWidget(summary, 1)
    row.addWidget(button)
    form.addRow(label, row)
    return summary


class SettingsPanel(QWidget):
    """Signals:
        saved(): everything edited was stored.
        rollout_requested(): the user wants the Rollout panel (agents, mode, share live there).
        dialog_requested(): the user wants the Settings dialog (model, endpoint, key, budget live there).
    """

    saved = Signal()
    rollout_requested = Signal()
    dialog_requested = Signal()

    def __init__(self, control: Any, runner: AsyncRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-settings")
        self.control = control
        self.runner = runner
        self.stored_exec: dict[str, Any] = {}
        self.stored_config: dict[str, str] = {}
        self.stored_prices: dict[str, tuple[float, float]] = {}
        layout = QVBoxLayout(self)
        top = QHBoxLayout()

        engine = QGroupBox("Test execution (the Phase 2 engine; the agents use the same settings)")
        form = QFormLayout(engine)
        self.strategy = QComboBox()
        for value, label in STRATEGIES.items():
            self.strategy.addItem(label, value)
        self.strategy.setToolTip("tier 1 runs a test as written, tier 2 heals it, tier 3 lets an AI agent carry out "
                                 "its intent")
        form.addRow("Fallback strategy:", self.strategy)
        self.timeout = QSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(" s")
        form.addRow("Time-out per run:", self.timeout)
        self.memory = QSpinBox()
        self.memory.setRange(64, 65536)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        form.addRow("Memory limit:", self.memory)
        self.retries = QSpinBox()
        self.retries.setRange(0, 10)
        form.addRow("Retries:", self.retries)
        self.heal = QDoubleSpinBox()
        self.heal.setRange(0.0, 1.0)
        self.heal.setSingleStep(0.05)
        self.heal.setDecimals(2)
        self.heal.setToolTip("How alike a healed element must be to the original (0-1)")
        form.addRow("Heal match threshold:", self.heal)
        self.backend = QComboBox()
        self.backend.setObjectName("browser-backend")
        for label, value in (("Auto", "auto"), ("Our own healer and agent", "ours"), ("Stagehand", "stagehand")):
            self.backend.addItem(label, value)
        self.backend.setToolTip("Who heals a browser test whose selector broke (tier 2) and carries out its "
                                "intent (tier 3)")
        form.addRow("Browser backend:", self.backend)
        self.backend_note = QLabel("")
        self.backend_note.setObjectName("browser-backend-note")
        self.backend_note.setWordWrap(True)
        self.backend_note.setStyleSheet("color: palette(mid);")
        form.addRow("", self.backend_note)
        self.backend.currentIndexChanged.connect(
            lambda _i: self.backend_note.setText(self.control.settings.browser_backend_note(self.backend.currentData())))
        self.unisolated = QCheckBox("Run code without the sandbox (unsafe)")
        self.unisolated.setToolTip("Where the sandbox (bubblewrap) is missing, run the repository's code anyway: "
                                   "it could then read your files and secrets")
        form.addRow("", self.unisolated)
        top.addWidget(engine, 1)

        right = QVBoxLayout()
        prices = QGroupBox("Model prices (USD per 1M tokens)")
        pl = QVBoxLayout(prices)
        self.prices = QTableWidget(0, 3)
        self.prices.setObjectName("prices")
        self.prices.setHorizontalHeaderLabels(["Model", "Input", "Output"])
        self.prices.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            self.prices.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            self.prices.setColumnWidth(column, 105)
        self.prices.setMinimumWidth(360)
        self.prices.verticalHeader().setVisible(False)
        pl.addWidget(self.prices)
        price_buttons = QHBoxLayout()
        self.add_price = QPushButton("Add model")
        self.remove_price = QPushButton("Remove")
        price_buttons.addWidget(self.add_price)
        price_buttons.addWidget(self.remove_price)
        price_buttons.addStretch(1)
        pl.addLayout(price_buttons)
        right.addWidget(prices, 1)
        salt_box = QGroupBox("Who goes to the agents in percentage mode")
        salt_column = QVBoxLayout(salt_box)
        explained = QLabel("In percentage mode a repository or conversation keeps its route: a hash of its name "
                           "mixed with this salt. Regenerate it to reshuffle who goes where.")
        explained.setWordWrap(True)
        explained.setStyleSheet("color: #666666")
        salt_column.addWidget(explained)
        sl = QHBoxLayout()
        self.salt = QLineEdit()
        self.salt.setToolTip("rollout_salt: mixed into the sticky hash that sends a repository or conversation "
                             "to the agents in percentage mode; a new salt reshuffles who goes where")
        self.regenerate = QPushButton("Regenerate")
        sl.addWidget(QLabel("Salt:"))
        sl.addWidget(self.salt, 1)
        sl.addWidget(self.regenerate)
        salt_column.addLayout(sl)
        right.addWidget(salt_box)
        top.addLayout(right, 1)
        layout.addLayout(top, 1)

        elsewhere = QGroupBox("Set elsewhere (one place each)")
        el = QFormLayout(elsewhere)
        self.rollout_summary = _link_row(el, "Agents and traffic:", "Rollout panel (Ctrl+4)", self.rollout_requested)
        self.model_summary = _link_row(el, "Model and budget:", "Settings dialog (Ctrl+,)", self.dialog_requested)
        layout.addWidget(elsewhere)

        bar = QHBoxLayout()
        self.message = QLabel("")
        self.message.setObjectName("settings-message")
        self.message.setWordWrap(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard edits and reload what is stored")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Store the edited values (Ctrl+S)")
        bar.addWidget(self.message, 1)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        layout.addLayout(bar)
        self.add_price.clicked.connect(lambda: self._price_row("", 0.0, 0.0))
        self.remove_price.clicked.connect(lambda: self.prices.removeRow(self.prices.currentRow()))
        self.regenerate.clicked.connect(lambda: self.salt.setText(secrets.token_hex(8)))
        self.save_button.clicked.connect(self.on_save)
        self.revert_button.clicked.connect(self.load)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.on_save)

    # -- load -----------------------------------------------------------------------

    def load(self) -> None:
        async def fetch() -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
            return (await self.control.settings.execution_settings(), await self.control.settings.system_config(),
                    await self.control.settings.prices())

        self.runner.run(fetch(), self._fill, self._error)

    def _fill(self, data: tuple[dict[str, Any], dict[str, str], dict[str, Any]]) -> None:
        self.stored_exec, self.stored_config, prices = data
        self.stored_prices = {m: (p.input_per_mtok, p.output_per_mtok) for m, p in prices.items()}
        e = self.stored_exec
        self.strategy.setCurrentIndex(max(self.strategy.findData(e["fallback_strategy"]), 0))
        self.timeout.setValue(e["timeout_seconds"])
        self.memory.setValue(e["memory_limit_mb"])
        self.retries.setValue(e["max_retries"])
        self.heal.setValue(e["heal_match_threshold"])
        self.unisolated.setChecked(e["allow_unisolated"])
        self.backend.setCurrentIndex(max(self.backend.findData(e.get("browser_backend", "auto")), 0))
        self.backend_note.setText(self.control.settings.browser_backend_note(self.backend.currentData()))
        self.prices.setRowCount(0)
        for model, (inp, out) in sorted(self.stored_prices.items()):
            self._price_row(model, inp, out)
        c = self.stored_config
        self.salt.setText(c.get("rollout_salt", ""))
        self._show_summaries(c)
        self.message.setText("")

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        """The read-only lines (agents and traffic, model) are read again each time the panel is shown:
        "agents off, mode off" stayed after the Rollout panel switched them on (issue 26). The
        editable fields keep what the user typed."""
        super().showEvent(event)
        if self.control is not None and hasattr(self.control, "settings"):
            self.runner.run(self.control.settings.system_config(), self._show_summaries, lambda _m: None)

    def _show_summaries(self, c: dict[str, str]) -> None:
        self.rollout_summary.setText(traffic_summary(c))
        self.model_summary.setText(
            f"{c.get('llm_model', '?')} at {c.get('llm_base_url') or 'no endpoint (search-based generation)'}; "
            f"{int(c.get('daily_token_budget', 0) or 0):,} tokens a day; {c.get('max_concurrent_tasks', '?')} "
            f"concurrent tasks; {c.get('llm_profile') or 'hosted'} model profile")

    def _price_row(self, model: str, inp: float, out: float) -> None:
        row = self.prices.rowCount()
        self.prices.insertRow(row)
        self.prices.setItem(row, 0, QTableWidgetItem(model))
        for column, value in ((1, inp), (2, out)):
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 10_000.0)
            spin.setDecimals(3)
            spin.setPrefix("$")
            spin.setValue(value)
            self.prices.setCellWidget(row, column, spin)
        if not model:
            self.prices.setCurrentCell(row, 0)
            self.prices.editItem(self.prices.item(row, 0))

    # -- edits ---------------------------------------------------------------------

    def price_table(self) -> dict[str, tuple[float, float]]:
        out = {}
        for row in range(self.prices.rowCount()):
            model = (self.prices.item(row, 0).text() if self.prices.item(row, 0) else "").strip()
            out[model] = (self.prices.cellWidget(row, 1).value(), self.prices.cellWidget(row, 2).value())
        return out

    def edits(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(execution_settings changes, system_config changes) against what is stored."""
        now = {"fallback_strategy": self.strategy.currentData(), "timeout_seconds": self.timeout.value(),
               "memory_limit_mb": self.memory.value(), "max_retries": self.retries.value(),
               "heal_match_threshold": round(self.heal.value(), 2), "allow_unisolated": self.unisolated.isChecked(),
               "browser_backend": self.backend.currentData()}
        exec_changes = {k: v for k, v in now.items() if v != self.stored_exec.get(k)}
        config_changes: dict[str, str] = {}
        if self.salt.text() != self.stored_config.get("rollout_salt", ""):
            config_changes["rollout_salt"] = self.salt.text()
        table = self.price_table()
        if table != self.stored_prices:
            import json

            config_changes["llm_prices"] = json.dumps({m: {"input": i, "output": o} for m, (i, o) in table.items()})
        return exec_changes, config_changes

    def on_save(self) -> None:
        exec_changes, config_changes = self.edits()
        if not exec_changes and not config_changes:
            self.message.setText("Nothing changed.")
            return
        if "" in self.price_table():
            self._error("Model prices: a row has no model name; type the model's name as the endpoint knows it, "
                        "or remove the row.")
            return

        async def store() -> None:
            if exec_changes:
                await self.control.settings.update_execution_settings(exec_changes)
            for key, value in config_changes.items():
                await self.control.settings.set_system_config(key, value)

        self.runner.run(store(), lambda _r: (self.load(), self.saved.emit()), self._error)

    def _error(self, message: str) -> None:
        # The edits stay in the editors: nothing typed is lost.
        self.message.setText(f'<span style="color:#d64545">Not saved: {message}</span>')
