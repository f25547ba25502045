"""Per-module evolve results joined: every module listed, totals from statements, names unique."""

from __future__ import annotations

from typing import Any

from agents.merged_evolution import ModuleOutcome, merged
from agents.whole_repository import BudgetPlan, Share


def _row(path: str, covered: int, total: int) -> dict[str, Any]:
    return {"path": path, "line_rate": covered / total, "branch_rate": 0.5, "lines_covered": covered,
            "lines_total": total, "branches_covered": 1, "branches_total": 2, "missing_lines": [],
            "executed_lines": [], "executed_branches": []}


def _result(target: str, covered: int, total: int, killed: int, mutants: int) -> dict[str, Any]:
    name = f"tests/test_generated_{target.rsplit('/', 1)[-1]}"
    return {"strategy": "search", "rounds": 1, "stop_reason": "round limit", "outcome": "partial", "reason": "",
            "files": [{"path": name, "target_file": target, "code": f"def test_x():\n    assert {target!r}\n",
                       "test_count": 1}],
            "coverage": {"line_rate": covered / total, "branch_rate": 0.5, "files": [_row(target, covered, total)]},
            "failures": [], "generators": [{"generator": "pynguin", "target_file": target}],
            "mutation": {"score": killed / mutants, "killed": killed, "total": mutants, "timed_out": False}}


def test_every_module_is_a_row_and_the_total_is_statements_over_statements() -> None:
    plan = BudgetPlan([Share("a/util.py", 90, 40), Share("b/util.py", 10, 10), Share("c.py", 30, 10)],
                      skipped=["d.py"])
    parts = [ModuleOutcome("a/util.py", _result("a/util.py", 90, 100, 8, 10)),
             ModuleOutcome("b/util.py", _result("b/util.py", 1, 10, 1, 10)),
             ModuleOutcome("c.py", None, "No test kept: No module named yaml", (30, 4))]
    result = merged(parts, plan, 0.8, None)
    assert [r["path"] for r in result["coverage"]["files"]] == ["a/util.py", "b/util.py", "c.py"]
    assert result["coverage"]["files"][2]["lines_total"] == 30  # the failed module counts at its full size
    assert result["coverage"]["line_rate"] == 91 / 140  # not the mean of 90 %, 10 % and 0 %
    assert result["outcome"] == "partial" and "2 of 3 module(s) got tests" in result["reason"]
    # Two modules named util.py: two test files, not one written over the other.
    assert [f["path"] for f in result["files"]] == ["tests/test_generated_util.py", "tests/test_generated_util_2.py"]
    assert "c.py: No test kept: No module named yaml" in result["failures"]
    assert any(f.startswith("d.py: not searched") for f in result["failures"])
    assert (result["mutation"]["killed"], result["mutation"]["total"]) == (9, 20)
    assert [m["outcome"] for m in result["modules"]] == ["partial", "partial", "failed"]


def test_a_failed_module_the_repositorys_tests_reach_keeps_their_figure() -> None:
    baseline = {"files": [_row("c.py", 6, 30)]}
    plan = BudgetPlan([Share("a.py", 10, 5), Share("c.py", 24, 5)])
    result = merged([ModuleOutcome("a.py", _result("a.py", 10, 10, 1, 1)),
                     ModuleOutcome("c.py", None, "timed out", (30, 4))], plan, 0.5, baseline)
    assert result["coverage"]["files"][1]["lines_covered"] == 6
    assert result["coverage"]["line_rate"] == 16 / 40 and result["outcome"] == "partial"


def test_no_score_anywhere_says_the_modules_own_reason() -> None:
    """humanize as a whole repository with --no-mutation said "no module's score was measured": the request's
    own choice is the reason."""
    asked_not = {"score": None, "error": "not measured: the request asked not to (mutation_score false)"}
    parts = [ModuleOutcome(t, {**_result(t, 5, 10, 0, 1), "mutation": asked_not}) for t in ("a.py", "b.py")]
    result = merged(parts, BudgetPlan([Share("a.py", 5, 5), Share("b.py", 5, 5)]), 0.5, None)
    assert result["mutation"]["score"] is None and result["mutation"]["error"] == asked_not["error"]


def test_a_test_an_earlier_modules_file_holds_is_not_repeated() -> None:
    """A README example covers both modules, and each module's step kept it: the user gets it once."""
    readme = 'def test_readme_usage():\n    """The example in README.md, "Usage"."""\n    assert m.f() == 1\n'
    parts = [ModuleOutcome(t, _result(t, 5, 10, 0, 1)) for t in ("a.py", "b.py", "c.py")]
    parts[0].result["files"][0]["code"] = "import m\n\n\n" + readme  # type: ignore[index]
    parts[1].result["files"][0]["code"] = ("import m\n\n\n" + readme.replace("usage", "usage_2")  # type: ignore[index]
                                           + "\n\ndef test_b():\n    assert m.g() == 2\n")
    parts[2].result["files"][0]["code"] = "import m\n\n\n" + readme  # type: ignore[index]
    result = merged(parts, BudgetPlan([Share(t, 5, 5) for t in ("a.py", "b.py", "c.py")]), 0.5, None)
    codes = [f["code"] for f in result["files"]]
    assert len(codes) == 2 and "test_readme_usage" in codes[0]  # c.py's file held nothing else
    assert "test_readme" not in codes[1] and "def test_b():" in codes[1] and result["files"][1]["test_count"] == 1
