"""Mutation score with mutmut in the sandbox: a stronger suite kills more mutants."""

import shutil
import sys
from pathlib import Path

import pytest

from engine.mutation import mutation_score
from tests.conftest import SAMPLE_REPO
from tests.helpers.calc_suites import STRONG_CALC_TESTS, WEAK_CALC_TESTS

WEAK, STRONG = WEAK_CALC_TESTS, STRONG_CALC_TESTS


@pytest.mark.slow
async def test_a_strong_suite_scores_higher_than_a_weak_one(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, repo)
    weak = await mutation_score(repo, ["calc.py"], {"test_weak.py": WEAK}, python=sys.executable)
    strong = await mutation_score(repo, ["calc.py"], {"test_strong.py": STRONG}, python=sys.executable)
    assert weak.total == strong.total > 0  # the same mutants, judged by two suites
    assert weak.score is not None and strong.score is not None
    assert strong.score > weak.score + 0.3, (weak, strong)
    assert weak.no_tests > strong.no_tests  # the weak suite never calls clamp or safe_div


async def test_a_suite_that_does_not_import_gives_a_reason_not_a_score(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, repo)
    broken = await mutation_score(repo, ["calc.py"], {"test_broken.py": "import nowhere\n"},
                                  python=sys.executable, time_box_s=60)
    assert broken.score is None and broken.total == 0
    assert broken.error is not None and "mutmut gave no result" in broken.error
