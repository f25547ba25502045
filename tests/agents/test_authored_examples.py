"""Docstring and README examples as one candidate: one keep pipeline beside the search, not two."""

from pathlib import Path

import pytest

from agents.generation import StrategyError
from agents.generation.authored_examples import generate
from agents.keep_per_test import collect_test_keys
from engine.engine import ExecuteRequest, ExecutionEngine

LOUD = '''def shout(text):
    """Upper-case with a bang.

    >>> shout("hi")
    'HI!'
    """
    return text.upper() + "!"
'''


async def test_both_kinds_of_example_are_one_file_that_runs(engine: ExecutionEngine, tmp_path: Path) -> None:
    repo = tmp_path / "repo"  # pytest makes tmp_path 0700; as root the sandbox could not read it
    repo.mkdir()
    (repo / "loud.py").write_text(LOUD)
    (repo / "README.md").write_text("# Shouting\n\n>>> import loud\n>>> loud.shout('a')\n'A!'\n")
    candidate = generate(repo, "loud.py")
    assert candidate.origin == "doctest+readme"
    assert collect_test_keys(candidate.code) == ["test_shout_docstring_examples", "test_readme_shouting"]
    execution = await engine.execute(ExecuteRequest(candidate.code, strategy="tier1_only",
                                                    repository=repo, target_files=("loud.py",)))
    assert {t["name"]: t["outcome"] for t in execution.outcomes} == {
        "test_shout_docstring_examples": "passed", "test_readme_shouting": "passed"}


def test_one_kind_alone_is_that_candidate_and_neither_says_why_for_both(tmp_path: Path) -> None:
    (tmp_path / "loud.py").write_text(LOUD)
    assert generate(tmp_path, "loud.py").origin == "doctest"
    (tmp_path / "loud.py").write_text("def shout(text):\n    return text\n")
    with pytest.raises(StrategyError, match="no docstring examples; the repository has no README"):
        generate(tmp_path, "loud.py")
