"""Charts that tell the truth: empty states in words, requests as counts, dead agents greyed."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from ui.panels.agents import AgentsModel
from ui.panels.costs import CostsPanel
from ui.panels.rollout import RolloutPanel


class NoRunner:
    """The panels' refresh timers may fire; nothing is behind them here."""

    def run(self, coro, _ok, _err) -> None:
        coro.close()


class NoControl:
    pass


EMPTY = {"budget": {"used": 0, "budget": 1_000_000, "ratio": 0.0}, "tokens_per_hour": [], "cost_per_hour": [],
         "cost_per_day": [], "tokens_by_agent_type": {}, "error_rate": None, "unpriced_models": [],
         "latency": {"phase2_p50": None, "phase2_p95": None, "phase3_p50": None, "phase3_p95": None}}


def test_an_empty_costs_panel_says_no_data_over_readable_axes(qtbot) -> None:
    panel = CostsPanel(NoControl(), NoRunner())
    panel.timer.stop()  # no service behind it
    qtbot.addWidget(panel)
    panel.show_series(EMPTY)
    assert panel.tokens_plot.empty_note.toPlainText() == "No tokens used (24 h)"
    assert panel.latency_plot.empty_note.toPlainText() == "No finished request yet"
    assert panel.cost_plot.empty_note.toPlainText().startswith("No cost yet")
    (x0, x1), (y0, y1) = panel.tokens_plot.viewRange()
    assert 86_000 < x1 - x0 < 87_000 and y0 == 0 and y1 > 1_000_000  # a day, and the budget line in view
    (_, _), (ly0, ly1) = panel.latency_plot.viewRange()
    assert ly0 == 0 and ly1 == 60  # not -400..400
    assert "no data yet" in panel.figures.text()


def test_costs_with_data_clear_the_note_and_flag_an_unpriced_model(qtbot) -> None:
    panel = CostsPanel(NoControl(), NoRunner())
    panel.timer.stop()  # no service behind it
    qtbot.addWidget(panel)
    now = time.time()
    panel.show_series({**EMPTY, "tokens_per_hour": [(now - 3600, 500.0)], "cost_per_day": [(now, 0.01)],
                       "latency": {"phase2_p50": 3.0, "phase2_p95": 5.0, "phase3_p50": None, "phase3_p95": None},
                       "error_rate": 0.25, "unpriced_models": ["my-local-model"]})
    assert panel.tokens_plot.empty_note.toPlainText() == ""
    assert panel.latency_plot.empty_note.toPlainText() == ""
    assert "25.0%" in panel.figures.text()
    assert "Cost unknown for my-local-model: add a price" in panel.figures.text()
    # Phase 3 ran nothing: said over its place, not drawn as a zero bar.
    assert [note.toPlainText() for note in panel.latency_notes] == ["", "", "no runs", "no runs"]


def test_value_axes_read_as_a_person_writes_numbers(qtbot) -> None:
    panel = CostsPanel(NoControl(), NoRunner())
    panel.timer.stop()
    qtbot.addWidget(panel)
    tokens = panel.tokens_plot.getAxis("left")
    assert tokens.tickStrings([0, 200_000, 1_000_000, 2_500], 1.0, 1.0) == ["0", "200k", "1M", "2.5k"]
    cost = panel.cost_plot.getAxis("left")
    assert cost.tickStrings([0.0, 0.05, 0.11], 1.0, 0.01) == ["$0.00", "$0.05", "$0.11"]
    assert cost.labelUnitPrefix == ""  # never "USD (x0.001)"


def test_requests_are_drawn_as_counts_per_minute(qtbot) -> None:
    panel = RolloutPanel(NoControl(), NoRunner())
    panel.timer.stop()  # no service behind it
    qtbot.addWidget(panel)
    minute = time.time() // 60 * 60
    panel._show_split([(minute - 600, 1, 0, 0), (minute - 300, 0, 1, 0), (minute - 60, 1, 0, 0)])
    phase2 = panel.bars["phase2"].opts
    assert list(phase2["height"]) == [1, 0, 1] and list(panel.bars["agents"].opts["y0"]) == [1, 0, 1]
    assert panel.split_plot.empty_note.toPlainText() == ""
    panel._show_split([])
    assert panel.split_plot.empty_note.toPlainText() == "No requests in the last 24 h"


def test_one_request_is_one_thin_bar_in_an_hour_not_a_block(qtbot) -> None:
    """One request filled the plot as a block over a 50 s axis, the legend over it (issue 26)."""
    panel = RolloutPanel(NoControl(), NoRunner())
    panel.timer.stop()
    qtbot.addWidget(panel)
    minute = time.time() // 60 * 60
    panel._show_split([(minute - 120, 1, 0, 0)])
    (x0, x1), (y0, y1) = panel.split_plot.viewRange()
    assert x1 - x0 >= 3600 and y0 == 0 and y1 >= 4
    assert panel.split_plot.getPlotItem().legend is None  # the key is in the title
    assert "Agents" in panel.split_plot.getPlotItem().titleLabel.text


def test_an_agent_silent_past_the_grace_period_is_greyed_as_gone() -> None:
    model = AgentsModel()
    row = {"agent_id": "agent_evolution_old", "agent_type": "evolution", "status": "unhealthy",
           "capabilities": ["test_generation"], "active_tasks": 0, "completed_today": 0,
           "heartbeat_age_s": 7200.0, "local": False, "pid": 1, "gone": True}
    model.set_rows([row, {**row, "agent_id": "agent_evolution_new", "status": "healthy", "gone": False,
                          "heartbeat_age_s": 1.0}])
    status_col = model.KEYS.index("status")
    assert model.data(model.index(0, status_col)) == "● gone (unhealthy)"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ForegroundRole).name() == "#9a9a9a"
    assert model.data(model.index(1, status_col)) == "● healthy"
