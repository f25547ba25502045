"""Docstring examples as tests: found by parsing, one test per docstring, run through the engine."""

from pathlib import Path

from agents.generation.doctests import documented, generate
from engine.engine import ExecuteRequest, ExecutionEngine

MODULE = '''"""Shouting.

>>> shout("a")
'A!'
"""


def shout(text):
    """Upper-case with a bang.

    >>> shout("hi")
    'HI!'
    """
    return text.upper() + "!"


def whisper(text):
    """Written as a user calls it, through the package (semver's ``semver.Version.parse``).

    >>> loud.whisper("HI")
    'hi'
    """
    return text.lower()


class Counter:
    def add(self, n):
        """>>> Counter().add(2)
        4
        """
        return n + 1

    def plain(self):
        """No examples here."""
'''


def test_docstrings_with_examples_are_found_by_parsing() -> None:
    assert documented(MODULE) == ["", "shout", "whisper", "Counter.add"]


async def test_each_docstring_becomes_a_test_and_a_wrong_example_fails_alone(
    engine: ExecutionEngine, tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"  # pytest makes tmp_path 0700; as root the sandbox could not read it
    repo.mkdir()
    (repo / "loud.py").write_text(MODULE)
    candidate = generate(repo, "loud.py")
    assert candidate.origin == "doctest"
    execution = await engine.execute(ExecuteRequest(candidate.code, strategy="tier1_only",
                                                    repository=repo, target_files=("loud.py",)))
    outcomes = {t["name"]: t["outcome"] for t in execution.outcomes}
    assert outcomes == {"test_module_docstring_examples": "passed", "test_shout_docstring_examples": "passed",
                        "test_whisper_docstring_examples": "passed",  # the package's name is defined, as its set-up does
                        "test_counter_add_docstring_examples": "failed"}  # the example is wrong: 2 + 1 is 3
    assert execution.per_test_coverage["test_shout_docstring_examples"]["loud.py"]["lines"]


def test_a_repository_whose_pytest_runs_doctests_gets_none_counted_as_generated(tmp_path: Path) -> None:
    import pytest

    from agents.generation import StrategyError

    (tmp_path / "shouting.py").write_text(MODULE)
    assert "def test_shout_docstring_examples" in generate(tmp_path, "shouting.py").code
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --doctest-modules\n")
    with pytest.raises(StrategyError, match=r"already runs its doctest examples \(pytest.ini has --doctest-modules\)"):
        generate(tmp_path, "shouting.py")
