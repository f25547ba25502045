"""Distilled tests stay only if they notice as many wrong lines as the tests as generated (real mutmut runs)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from agents.mutation_gate import AS_WRITTEN, gate
from tests.conftest import SAMPLE_REPO
from tests.helpers.calc_suites import STRONG_CALC_TESTS, WEAK_CALC_TESTS


@pytest.fixture
def calc_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, repo)
    return repo


@pytest.mark.slow
async def test_a_distilled_suite_that_kills_fewer_mutants_is_undone_and_one_as_strong_stays(calc_repo: Path) -> None:
    # A "distillation" that lost assertions (WEAK) beside the tests as generated (STRONG): undone, and said.
    kept = [{"path": "tests/test_generated_calc.py", "code": WEAK_CALC_TESTS, AS_WRITTEN: STRONG_CALC_TESTS,
             "distil": "distilled: 3 tests from 5"}]
    gated = await gate(calc_repo, ["calc.py"], kept, python=sys.executable, time_box_s=60, allow_unisolated=False)
    assert kept[0]["code"] == STRONG_CALC_TESTS and AS_WRITTEN not in kept[0]
    assert kept[0]["distil"].startswith("undone: the tests as generated killed more mutants")
    assert gated.note is not None and gated.note.endswith("the tests go out as generated")
    assert gated.score.score is not None and gated.score.score > 0.5  # the score of what goes out
    figures = gated.to_json()["compared"]
    assert figures["kept"] == "as_generated" and figures["as_generated"] > figures["distilled"]
    # The other way round (the distilled suite the stronger one): it stays, and the note says so.
    kept = [{"path": "tests/test_generated_calc.py", "code": STRONG_CALC_TESTS, AS_WRITTEN: WEAK_CALC_TESTS}]
    gated = await gate(calc_repo, ["calc.py"], kept, python=sys.executable, time_box_s=60, allow_unisolated=False)
    assert kept[0]["code"] == STRONG_CALC_TESTS and AS_WRITTEN not in kept[0]
    assert gated.note is not None and gated.note.endswith("distilled tests kept")


async def test_files_distillation_left_alone_are_scored_once_with_nothing_to_compare(calc_repo: Path) -> None:
    kept = [{"path": "tests/test_generated_calc.py", "code": STRONG_CALC_TESTS}]
    gated = await gate(calc_repo, ["calc.py"], kept, python=sys.executable, time_box_s=60, allow_unisolated=False)
    assert gated.note is None and gated.score.total > 0
    assert gated.score.killed == sum(1 for v in gated.score.outcomes.values() if v == "killed")
