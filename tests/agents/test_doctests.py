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
    assert documented(MODULE) == ["", "shout", "Counter.add"]


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
                        "test_counter_add_docstring_examples": "failed"}  # the example is wrong: 2 + 1 is 3
    assert execution.per_test_coverage["test_shout_docstring_examples"]["loud.py"]["lines"]
