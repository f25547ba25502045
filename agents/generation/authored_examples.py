"""The examples a module's authors wrote, in its docstrings and in the README, as one candidate.

Both cost no search time, and each test is kept or dropped on its own run like any candidate's. As two
candidates they were two keep pipelines (a first run, a keep run, the file reversed and each test alone)
beside the search on the same cores: on ``toolz.itertoolz``, which has both, the request ended 0.9 s past its
due time. As one file they are one pipeline.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from agents.generation import Candidate, StrategyError, doctests, readme_examples
from agents.generation.merge_files import merge


def generate(repository: Path, target_file: str, shown: Collection[str] = ()) -> Candidate:
    """The docstring examples and the README's (blocking: reads two files); why neither, when neither.
    ``shown``: README tests a request kept for an earlier target (agents/generation/readme_examples.py)."""
    made: list[Candidate] = []
    why: list[str] = []
    for make in (lambda: doctests.generate(repository, target_file),
                 lambda: readme_examples.generate(repository, target_file, shown)):
        try:
            made.append(make())
        except StrategyError as exc:
            why.append(str(exc))
    if not made:
        raise StrategyError("; ".join(why))
    code = merge([c.code for c in made]) if len(made) > 1 else None
    if code is None:  # one of them, or two that cannot share a module (a helper bound twice): the first
        return made[0]
    return Candidate(target_file, code, "+".join(c.origin for c in made))
