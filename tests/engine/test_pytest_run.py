"""One sandboxed pytest run: a multi-file text runs as its files, in one session, as the user runs them."""

from __future__ import annotations

import sys
from pathlib import Path

from engine import multi_file
from engine.pytest_run import TEST_FILENAME, RunSpec, files_to_run, run_pytest
from engine.sandbox import SandboxLimits

# The first file leaves a process-wide list non-empty; the second expects it empty: they pass alone, not together.
_LEAVES = "import registry\n\n\ndef test_registers():\n    assert registry.add('x') == 1\n"
_MEETS = "import registry\n\n\ndef test_starts_empty():\n    assert registry.count() == 0\n"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "registry.py").write_text("names: list[str] = []\n\n\ndef add(name):\n    names.append(name)\n"
                                      "    return len(names)\n\n\ndef count():\n    return len(names)\n")
    return repo


async def _run(code: str, repo: Path, *, each_alone: bool = False):
    return await run_pytest(RunSpec(code, sys.executable, SandboxLimits(60, 1024), repo, ("registry.py",),
                                    heal_mode="off", each_alone=each_alone))


async def test_a_multi_file_text_runs_as_its_files_in_one_session_in_their_order(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    forward = multi_file.join({"tests/test_generated_a.py": _LEAVES, "tests/test_generated_b.py": _MEETS})
    run = await _run(forward, repo)
    by_name = {o.name: (o.classname, o.outcome) for o in run.outcomes}
    # b met what a left: they shared one process, a first.
    assert by_name == {"test_registers": ("test_generated_a", "passed"),
                       "test_starts_empty": ("test_generated_b", "failed")}
    assert set(run.per_test) == {"<import>", "test_generated_a.test_registers", "test_generated_b.test_starts_empty"}
    backward = multi_file.join({"tests/test_generated_b.py": _MEETS, "tests/test_generated_a.py": _LEAVES})
    assert (await _run(backward, repo)).status == "success"


def test_a_text_that_only_looks_multi_file_runs_as_the_one_file_it_is() -> None:
    one = "def test_x():\n    pass\n"
    assert files_to_run(one) == {TEST_FILENAME: one}
    # Names that are not test modules (the plugin's, one of the repository's) are never written beside the tests.
    for bad in ("aiwebtest_plugin.py", "registry.py", "tests/test_x.txt"):
        text = multi_file.join({"tests/test_a.py": one, bad: one})
        assert files_to_run(text) == {TEST_FILENAME: text}, bad
    same_name = multi_file.join({"a/test_x.py": one, "b/test_x.py": one})
    assert files_to_run(same_name) == {TEST_FILENAME: same_name}
    single = multi_file.join({"tests/test_a.py": one})
    assert files_to_run(single) == {TEST_FILENAME: single}
    # Only a base name is used: a path leading out lands in the run's own folder like any other.
    both = multi_file.join({"tests/conftest.py": one, "../../test_b.py": one})
    assert files_to_run(both) == {"conftest.py": one, "test_b.py": one}


async def test_each_alone_runs_every_test_in_a_process_of_its_own_and_says_how_a_lost_one_ended(
        tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code = ("import os\n\nimport registry\n\n\n"
            "def test_registers():\n    assert registry.add('x') == 1\n\n\n"
            "def test_starts_empty(record_property):\n    record_property('aiwebtest_observed', str(registry.count()))\n"
            "    assert registry.count() == 0\n\n\n"
            "def test_leaves_abruptly():\n    os._exit(3)\n\n\n"
            "def test_after_the_lost_one():\n    assert registry.add('y') == 1\n")
    together = await _run(code, repo)
    assert together.status != "success"  # one process: the second test met the first one's name, then it died
    run = await _run(code, repo, each_alone=True)
    by_name = {o.name: o for o in run.outcomes}
    assert {n: o.outcome for n, o in by_name.items()} == {
        "test_registers": "passed", "test_starts_empty": "passed", "test_leaves_abruptly": "failed",
        "test_after_the_lost_one": "passed"}
    assert "exit status 3" in by_name["test_leaves_abruptly"].message
    assert by_name["test_starts_empty"].observed == "0"  # what a test records still comes back
