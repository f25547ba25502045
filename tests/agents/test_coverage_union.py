"""The coverage of several runs together, and what counts before any run reached a target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agents.coverage_union import CoverageUnion, static_size
from tests.conftest import SAMPLE_REPO


def _measured_totals(tmp_path: Path, module: str) -> tuple[int, int]:
    """What a real ``coverage run --branch`` reports as the module's statements and branches."""
    tmp_path.mkdir()
    (tmp_path / "load.py").write_text(f"import {module}\n")
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", f"--source={SAMPLE_REPO}",
                    f"--data-file={tmp_path / '.cov'}", str(tmp_path / "load.py")],
                   cwd=SAMPLE_REPO, check=True, env={"PYTHONPATH": str(SAMPLE_REPO), "PATH": "/usr/bin:/bin"})
    subprocess.run([sys.executable, "-m", "coverage", "json", f"--data-file={tmp_path / '.cov'}",
                    "-o", str(tmp_path / "cov.json")], cwd=SAMPLE_REPO, check=True, capture_output=True)
    summary = next(f["summary"] for name, f in json.loads((tmp_path / "cov.json").read_text())["files"].items()
                   if name.endswith(f"{module}.py"))
    return summary["num_statements"], summary["num_branches"]


def test_the_parsers_size_is_what_a_measured_run_reports(tmp_path: Path) -> None:
    for module in ("calc", "text_utils"):
        assert static_size(SAMPLE_REPO / f"{module}.py") == _measured_totals(tmp_path / module, module)


async def test_a_target_no_run_reached_counts_as_uncovered(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "small.py").write_text("def one():\n    return 1\n")
    (repo / "large.py").write_text("".join(f"def f{i}(x):\n    if x:\n        return {i}\n    return 0\n"
                                           for i in range(20)))
    union = await CoverageUnion.sized(repo, ["small.py", "large.py"])
    union.add({"files": [{"path": "small.py", "lines_total": 2, "branches_total": 0, "executed_lines": [1, 2],
                          "executed_branches": [], "missing_lines": []}]})
    assert union.rate("small.py") == 1.0 and union.rate("large.py") == 0.0
    assert union.line_rate == 2 / (2 + 80)  # not 100 %: large.py's 80 statements count, uncovered
    assert union.measured("small.py") and not union.measured("large.py")
    assert [f["lines_total"] for f in union.to_json()["files"]] == [2, 80]


async def test_a_target_that_does_not_parse_waits_for_a_run_to_size_it(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "binary.py").write_bytes(b"\xff\xfe\x00")
    union = await CoverageUnion.sized(tmp_path, ["broken.py", "binary.py", "absent.py"])
    assert [f["lines_total"] for f in union.to_json()["files"]] == [0, 0, 0]


def test_a_union_starts_from_the_repositorys_own_tests_and_refuses_a_record_that_does_not_read_as_one() -> None:
    """agents/baseline.py: the existing tests' record seeds both routes' union; it comes back from the store."""
    first = CoverageUnion(["calc.py"])
    first.add({"files": [{"path": "calc.py", "lines_total": 10, "branches_total": 4, "executed_lines": [1, 2, 3],
                          "executed_branches": [[2, 3]], "missing_lines": [4, 5, 6, 7, 8, 9, 10]}]})
    record = first.to_json()
    second = CoverageUnion(["calc.py"])
    assert second.start_from(record) == record and second.line_rate == 0.3 and second.branch_rate == 0.25
    second.add({"files": [{"path": "calc.py", "lines_total": 10, "branches_total": 4, "executed_lines": [3, 4],
                           "executed_branches": [], "missing_lines": [1, 2, 5, 6, 7, 8, 9, 10]}]})
    assert second.line_rate == 0.4  # the kept tests count for what they add
    for bad in (None, {}, {"files": "x"}, {"files": [{"path": "calc.py"}]},
                {"files": [{**record["files"][0], "executed_lines": [True]}]},
                {"files": [{**record["files"][0], "executed_branches": [[1, 2, 3]]}]}):
        fresh = CoverageUnion(["calc.py"])
        assert fresh.start_from(bad) is None and fresh.line_rate == 0.0, bad
