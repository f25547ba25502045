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


async def test_a_module_whose_package_has_other_modules_gets_a_score(tmp_path: Path) -> None:
    """mutmut copies only the mutated file; string_utils' manipulation.py imports errors.py beside it."""
    package = tmp_path / "repo" / "shapes"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text("class ShapeError(ValueError):\n    pass\n")
    (package / "square.py").write_text(
        "from shapes.errors import ShapeError\n\n\ndef area(side):\n"
        "    if side < 0:\n        raise ShapeError('negative side')\n    return side * side\n")
    suite = ("import pytest\nfrom shapes.errors import ShapeError\nfrom shapes.square import area\n\n\n"
             "def test_area():\n    assert area(3) == 9\n    with pytest.raises(ShapeError):\n        area(-1)\n")
    score = await mutation_score(tmp_path / "repo", ["shapes/square.py"], {"test_square.py": suite},
                                 python=sys.executable, time_box_s=60)
    assert score.error is None and score.total > 0 and score.killed >= 1, score  # was: "failed to collect stats"


async def test_the_repositorys_own_pytest_options_do_not_stop_the_score(tmp_path: Path) -> None:
    """semver 3.1.1 keeps its options in ``.pytest.ini`` (``-x``, doctest globs over its docs): mutmut gave no
    result at all. Every pytest configuration file is ours during the run, that one too."""
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, repo)
    (repo / ".pytest.ini").write_text("[pytest]\naddopts = -p no_such_plugin_anywhere\n")
    scored = await mutation_score(repo, ["calc.py"], {"test_strong.py": STRONG}, python=sys.executable,
                                  time_box_s=60)
    assert scored.error is None and scored.total > 0, scored
