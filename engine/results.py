"""Reading what a run produced: pytest's JUnit XML and coverage.py's JSON.

Nothing is estimated: outcomes come from the JUnit report, coverage from
coverage.py's own JSON, both written by the sandboxed run.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class

    name: str
    classname: str
    outcome: str  # pytest's words: passed | failed | error | skipped | xfailed | xpassed
    duration_s: float
    message: str = ""
    traceback: str = ""
    # What a test in observe form recorded (agents/generation/observe.py): JSON text, untrusted input.
    observed: str = ""


class _Rates:
    """Line and branch rates from the four counts (no code counts as fully covered)."""

    lines_covered: int
    lines_total: int
    branches_covered: int
    branches_total: int

    @property
    def line_rate(self) -> float:
        return self.lines_covered / self.lines_total if self.lines_total else 1.0

    @property
    def branch_rate(self) -> float:
        return self.branches_covered / self.branches_total if self.branches_total else 1.0


@dataclass(frozen=True)
class FileCoverage(_Rates):
    path: str
    lines_covered: int
    lines_total: int
    branches_covered: int
    branches_total: int
    missing_lines: list[int] = field(default_factory=list)
    executed_lines: list[int] = field(default_factory=list)
    executed_branches: list[list[int]] = field(default_factory=list)


@dataclass(frozen=True)
class CoverageReport(_Rates):
    files: list[FileCoverage]

    @property
    def lines_covered(self) -> int:
        return sum(f.lines_covered for f in self.files)

    @property
    def lines_total(self) -> int:
        return sum(f.lines_total for f in self.files)

    @property
    def branches_covered(self) -> int:
        return sum(f.branches_covered for f in self.files)

    @property
    def branches_total(self) -> int:
        return sum(f.branches_total for f in self.files)

    @property
    def combined_rate(self) -> float:
        """Lines and branches together, as coverage.py's own total percent."""
        total = self.lines_total + self.branches_total
        return (self.lines_covered + self.branches_covered) / total if total else 1.0

    def to_json(self) -> dict:
        return {
            "line_rate": self.line_rate,
            "branch_rate": self.branch_rate,
            "combined_rate": self.combined_rate,
            "lines_covered": self.lines_covered,
            "lines_total": self.lines_total,
            "branches_covered": self.branches_covered,
            "branches_total": self.branches_total,
            "files": [asdict(f) | {"line_rate": f.line_rate, "branch_rate": f.branch_rate} for f in self.files],
        }


XPASS_PROPERTY = "aiwebtest_outcome"
OBSERVED_PROPERTY = "aiwebtest_observed"
OBSERVED_CAP = 16 * 1024
# pytest's own order and words for its summary line ("1 failed, 7 passed, 1 xfailed in 0.1s").
SUMMARY_ORDER = ("failed", "passed", "skipped", "xfailed", "xpassed", "error")


def summary_counts(outcomes: list[str]) -> list[tuple[str, int]]:
    """(word, count) in pytest's order, zeros left out; "error" becomes "errors" past one, as pytest says."""
    counts = [(word, outcomes.count(word)) for word in SUMMARY_ORDER if outcomes.count(word)]
    return [("errors" if word == "error" and n > 1 else word, n) for word, n in counts]


def parse_junit(path: Path) -> list[TestOutcome]:
    if not path.exists():
        return []
    root = ET.parse(path).getroot()
    outcomes = []
    for case in root.iter("testcase"):
        outcome, message, trace = "passed", "", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                if tag == "skipped" and node.get("type") == "pytest.xfail":
                    outcome = "xfailed"  # JUnit has no xfail: pytest writes it as a skip of this type
                message = node.get("message", "")
                trace = node.text or ""
                break
        # JUnit has no xpass either: pytest writes it as a pass; our plugin marks it (engine/aiwebtest_plugin.py).
        if outcome == "passed" and any(p.get("name") == XPASS_PROPERTY and p.get("value") == "xpassed"
                                       for p in case.iter("property")):
            outcome = "xpassed"
        observed = next((p.get("value", "") for p in case.iter("property") if p.get("name") == OBSERVED_PROPERTY), "")
        outcomes.append(
            TestOutcome(
                name=case.get("name", ""),
                classname=case.get("classname", ""),
                outcome=outcome,
                duration_s=float(case.get("time", 0) or 0),
                message=message,
                traceback=trace,
                observed=observed[:OBSERVED_CAP],
            )
        )
    return outcomes


def parse_coverage(path: Path, root: Path | None = None) -> CoverageReport | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    files = []
    for name, info in sorted(data.get("files", {}).items()):
        summary = info["summary"]
        shown = name
        if root is not None:
            try:
                shown = str(Path(name).resolve().relative_to(root.resolve()))
            except ValueError:
                pass
        files.append(
            FileCoverage(
                path=shown,
                lines_covered=summary["covered_lines"],
                lines_total=summary["num_statements"],
                branches_covered=summary.get("covered_branches", 0),
                branches_total=summary.get("num_branches", 0),
                missing_lines=list(info.get("missing_lines", [])),
                executed_lines=list(info.get("executed_lines", [])),
                executed_branches=[list(b) for b in info.get("executed_branches", [])],
            )
        )
    return CoverageReport(files)
