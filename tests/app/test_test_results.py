"""What the Generate view does with a result's tests: run them, and say it as pytest says it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.test_results import TestResultsService
from ui.generate.result_text import test_run, test_run_line

EVERY_OUTCOME = '''import pytest


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert 1 + 1 == 3


@pytest.fixture
def broken():
    raise RuntimeError("the fixture breaks")


def test_errs(broken):
    pass


def test_skips():
    pytest.skip("not here")


@pytest.mark.xfail(reason="known bug")
def test_xfails():
    assert 0


@pytest.mark.xfail(reason="fixed since")
def test_xpasses():
    pass
'''


def _pytest_line(folder: Path) -> str:
    """pytest's own summary line, without its time: "1 failed, 1 passed, ... 1 error"."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           "tests/test_every.py"], cwd=folder, capture_output=True, text=True, timeout=120)
    last = done.stdout.strip().splitlines()[-1]
    return re.sub(r" in [\d.]+s.*$", "", last)


async def test_run_these_tests_says_what_pytest_says(engine, tmp_path: Path) -> None:
    """A pass, a fail, an error, a skip, an xfail and an xpass: it said "1 passed, 5 failed" (issue 26)."""
    repo = tmp_path / "repo"  # tmp_path itself is its owner's only; the sandbox's user must read the repository
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_every.py").write_text(EVERY_OUTCOME)
    result = {"repository": str(repo), "files": {"tests/test_every.py": EVERY_OUTCOME}, "coverage_by_file": []}
    runs = await TestResultsService(engine).run_tests(result)
    expected = _pytest_line(repo)
    assert expected == "1 failed, 1 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error"
    assert test_run_line(runs) == expected
    shown = test_run(runs)
    assert "test_fails: failed" in shown and "test_errs: error" in shown
    assert "test_skips" not in shown and "test_xfails" not in shown  # not failures
