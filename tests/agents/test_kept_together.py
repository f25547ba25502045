"""A whole repository's kept files run together: a test that fails only in company is dropped and named."""

from __future__ import annotations

from pathlib import Path

from agents.kept_together import run_together
from agents.merged_evolution import held_together
from tests.helpers.sandbox_phase2 import SandboxPhase2

_REGISTRY = ("names: list[str] = []\n\n\ndef add(name):\n    names.append(name)\n    return len(names)\n\n\n"
             "def count():\n    return len(names)\n")
_OTHER = "def double(x):\n    return 2 * x\n"
# Each file passes on its own; together, whichever of the two registry tests runs second fails.
_A = "import registry\n\n\ndef test_add_returns_the_count():\n    assert registry.add('x') == 1\n"
_B = ("import other\nimport registry\n\n\ndef test_double():\n    assert other.double(2) == 4\n\n\n"
      "def test_count_starts_at_zero():\n    assert registry.count() == 0\n")


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "registry.py").write_text(_REGISTRY)
    (tmp_path / "other.py").write_text(_OTHER)
    return tmp_path


async def test_a_test_that_fails_beside_another_modules_tests_is_dropped_and_named(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    files = {"tests/test_generated_registry.py": _A, "tests/test_generated_other.py": _B}
    together = await run_together(SandboxPhase2(), repo, files, ["registry.py", "other.py"], None)
    # In order the count test meets what the add test left (reversed it runs first and passes): it goes, named.
    assert [d.split(": ")[0] for d in together.dropped] == [
        "tests/test_generated_other.py::test_count_starts_at_zero"]
    assert "in order" in together.dropped[0]
    assert together.files["tests/test_generated_registry.py"] == _A
    assert "test_double" in together.files["tests/test_generated_other.py"]
    assert "test_count_starts_at_zero" not in together.files["tests/test_generated_other.py"]
    # The figure is the second round's, with the test gone: count() no longer runs.
    rows = {r["path"]: r for r in together.coverage["files"]}
    assert rows["registry.py"]["lines_covered"] == 5


async def test_files_that_hold_together_give_the_figure_they_reach_together(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    files = {"tests/test_generated_registry.py": _A,
             "tests/test_generated_other.py": "import other\n\n\ndef test_double():\n    assert other.double(2) == 4\n"}
    together = await run_together(SandboxPhase2(), repo, files, ["registry.py", "other.py"], None)
    assert together.dropped == [] and together.files == files
    rows = {r["path"]: r for r in together.coverage["files"]}
    assert rows["other.py"]["line_rate"] == 1.0
    assert rows["registry.py"]["lines_covered"] == 5 and rows["registry.py"]["lines_total"] == 6  # count() never ran
    merged = {"files": [{"path": p, "code": c, "test_count": 1} for p, c in files.items()], "failures": [],
              "modules": [{"target": "registry.py", "error": None}, {"target": "other.py", "error": None}],
              "reason": "", "outcome": "complete", "coverage": {}}
    held = held_together(merged, together, 0.9)
    assert held["coverage"]["line_rate"] == together.coverage["line_rate"] == 7 / 8
    assert held["outcome"] == "partial" and "the kept files run together" in held["reason"]
