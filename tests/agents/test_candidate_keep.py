"""One generator's candidate kept per test, through the sandbox (agents/candidate_keep.py)."""

from __future__ import annotations

from pathlib import Path

from agents.candidate_keep import keep_candidate
from agents.coverage_union import CoverageUnion
from agents.generation import Candidate
from agents.keep_per_test import collect_test_keys
from tests.helpers.sandbox_phase2 import SandboxPhase2

_REGISTRY = ("_names = []\n\n\ndef add(name):\n    _names.append(name)\n\n\n"
             "def seen(name):\n    if name in _names:\n        return True\n    return False\n\n\n"
             "def count():\n    return len(_names)\n")


async def _no_progress(*_: object, **__: object) -> None:
    return None


async def test_a_test_that_passes_only_after_another_is_dropped_and_named_and_the_rest_is_kept(
        tmp_path: Path) -> None:
    """Issue 27's flaky keep: ``test_seen`` adds the only line of ``seen``'s True branch, but only after
    ``test_add`` ran; it passes in file order, so only the reversed and alone runs tell."""
    (tmp_path / "registry.py").write_text(_REGISTRY)
    code = ("import registry\n\n\ndef test_add():\n    registry.add('ada')\n    assert registry.count() >= 1\n\n\n"
            "def test_seen():\n    assert registry.seen('ada')\n\n\n"
            "def test_not_seen():\n    assert not registry.seen('bob')\n")
    union = await CoverageUnion.sized(tmp_path, ["registry.py"])
    tried = await keep_candidate(SandboxPhase2(), _no_progress, "hand", Candidate("registry.py", code, "llm"),
                                 tmp_path, union)
    assert tried.flaky == ("test_seen",)
    assert tried.code is not None and collect_test_keys(tried.code) == ["test_add", "test_not_seen"]
    assert "1 flaky" in tried.note
    assert set(tried.steps) == {"first run", "keep"}  # no distillation for a model's tests
    assert union.rate("registry.py") < 1.0  # seen's True branch is not claimed by a test that was dropped


async def test_a_readme_example_that_fails_as_written_is_named(tmp_path: Path) -> None:
    """The README's authors want to know their example is wrong today; a search's failing test is just dropped."""
    (tmp_path / "registry.py").write_text(_REGISTRY)
    code = ("import registry\n\n\ndef test_readme_usage():\n    assert registry.seen('bob') is False\n\n\n"
            "def test_readme_counting():\n    assert registry.count() == 3\n")
    union = await CoverageUnion.sized(tmp_path, ["registry.py"])
    tried = await keep_candidate(SandboxPhase2(), _no_progress, "readme", Candidate("registry.py", code, "readme"),
                                 tmp_path, union)
    assert tried.code is not None and collect_test_keys(tried.code) == ["test_readme_usage"]
    assert tried.note.endswith("; the README's examples that fail as written: test_readme_counting")
