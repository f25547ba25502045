"""The request's wall budget: the search gets what is left once the rest is set aside (agents/wall_budget.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agents.evolve_task import EvolveTask
from agents.wall_budget import (
    AFTER_DISTIL_S,
    AFTER_SEARCH_S,
    MUTATION_MIN_S,
    PYNGUIN_OVERHEAD_S,
    WALL_FACTOR,
    WallBudget,
    wall_spent_note,
)
from engine.generate_request import GenerateRequest


def test_a_60_s_request_searches_what_its_72_s_leave_after_pynguins_start_up_the_checks_and_the_mutation_score(
) -> None:
    wall = WallBudget.of(time.time(), 60)
    searched = wall.search_s(60, mutation=True)
    expected = WALL_FACTOR * 60 - PYNGUIN_OVERHEAD_S - AFTER_SEARCH_S - MUTATION_MIN_S
    assert searched == pytest.approx(expected, abs=0.5)
    assert searched < 60  # the whole budget to the search ended tabulate at 1.6x
    # Without a mutation score its least box goes to the search too.
    assert wall.search_s(60, mutation=False) == pytest.approx(expected + MUTATION_MIN_S, abs=0.5)


def test_the_search_never_gets_more_than_its_share_nor_less_than_half_of_it() -> None:
    long = WallBudget.of(time.time(), 600)
    assert long.search_s(600, mutation=True) == 600  # 720 s leave more than the search's 600
    short = WallBudget.of(time.time(), 10)  # Pynguin's start-up alone is more than the 2 s beside it
    assert short.search_s(10, mutation=True) == 5
    spent = WallBudget(time.time() - 1)  # already due: half the share still, so something is handed out
    assert spent.search_s(40, mutation=False) == 20


def test_targets_still_to_search_share_what_is_left() -> None:
    wall = WallBudget.of(time.time(), 200)  # 240 s: two targets, 100 s each of the search budget
    one = wall.search_s(100, mutation=False, targets_left=2)
    assert one == pytest.approx(240 / 2 - PYNGUIN_OVERHEAD_S - AFTER_SEARCH_S, abs=0.5)


def test_the_mutation_score_gets_what_is_left_and_none_when_too_little_is() -> None:
    assert WallBudget(time.time() + 100, 60).mutation_box_s(15) == 15
    assert WallBudget(time.time() + 10).mutation_box_s(15) == pytest.approx(7.5, abs=0.5)  # 2.5 s kept back
    assert WallBudget(time.time() + 2).mutation_box_s(15) == 0
    assert WallBudget(time.time() - 5, 60).mutation_box_s(15) == 0
    assert WallBudget.of(time.time(), 60).holdable and WallBudget.of(time.time(), 51).holdable
    assert not WallBudget.of(time.time(), 49).holdable  # 58.8 s cannot hold 35 s beside half of 49


def test_a_budget_too_small_for_the_wall_keeps_its_mutation_score() -> None:
    # 10 s of search: Pynguin's start-up alone is more than the 2 s the wall leaves beside it. The result
    # comes late either way; it must not come without its score (tests/app/test_api_v2.py asks for one).
    late = WallBudget(time.time() - 5, 10)
    assert not late.holdable and late.gate_due_at is None  # the gate tries every undo: late either way
    assert WallBudget(123.0, 60).gate_due_at == 123.0
    assert late.mutation_box_s(15) == MUTATION_MIN_S
    assert WallBudget(time.time() + 30, 10).mutation_box_s(15) == 15
    # and the result says what going without it means, not a blank
    assert "distilled tests went out without being compared" in wall_spent_note()
    # Distillation keeps to the due time, less the merge and the write after it, only where the wall can hold.
    assert WallBudget(123.0, 60).distil_due_at == 123.0 - AFTER_DISTIL_S
    assert late.distil_due_at is None


@pytest.mark.parametrize("value", [None, "soon", True, [1]])
def test_a_due_time_off_the_bus_that_is_not_a_number_means_no_bound(value: object) -> None:
    assert WallBudget.from_payload(value) is None


def test_the_evolve_task_carries_its_due_time_across_the_bus() -> None:
    request = GenerateRequest(repository_url="/tmp/repo", target_files=["calc.py"])
    task = EvolveTask(request, Path("/tmp/repo"), ["calc.py"], due_at=1_800_000_000.5)
    again = EvolveTask.of(task.payload())
    assert again.due_at == 1_800_000_000.5 and again.wall == WallBudget(1_800_000_000.5, request.search_time_s)
    assert EvolveTask.of(EvolveTask(request, Path("/tmp/repo"), ["calc.py"]).payload()).wall is None
    bad = {**task.payload(), "due_at": "tomorrow"}
    assert EvolveTask.of(bad).due_at is None
