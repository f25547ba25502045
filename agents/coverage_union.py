"""Coverage of several test files together, from their separate measured runs.

Each kept candidate was run alone with coverage; the lines and branches
the set covers together are the union of what each executed (the code
under test is deterministic; flaky candidates were dropped by reruns).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverage.config import DEFAULT_EXCLUDE
from coverage.exceptions import CoverageException
from coverage.parser import PythonParser

_EXCLUDE = "|".join(f"(?:{pattern})" for pattern in DEFAULT_EXCLUDE)  # what our runs exclude (engine/pytest_run.py)
_LARGEST_SOURCE = 2_000_000  # bytes; beyond that the size stays unknown until a run reports it


@dataclass
class FileUnion:
    statements: int = 0
    branches: int = 0
    lines: set[int] = field(default_factory=set)
    arcs: set[tuple[int, int]] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    reported: bool = False  # a run has measured this file (before that, statements are the parser's count)

    @property
    def line_rate(self) -> float:
        return len(self.lines) / self.statements if self.statements else 0.0

    @property
    def branch_rate(self) -> float:
        # No branches: full marks only if the code ran at all (nothing covered is not 100 %).
        if not self.branches:
            return 1.0 if self.lines else 0.0
        return len(self.arcs) / self.branches


def static_size(path: Path) -> tuple[int, int]:
    """(statements, branches) coverage.py counts in ``path``, from its parser, without running it.

    A target no run reached had 0 statements in the union, so it dropped out
    of the overall rate: on humanize 4.17, number.py (173 statements) got no
    test and filesize.py's 96 % was reported for both, "target reached".
    Blocking (parses the file): call it in a thread. (0, 0) when the file
    cannot be parsed; a run's report then sizes it.
    """
    try:
        if path.stat().st_size > _LARGEST_SOURCE:
            return 0, 0
        parser = PythonParser(text=path.read_text(encoding="utf-8"), filename=str(path), exclude=_EXCLUDE)
        parser.parse_source()
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, CoverageException):
        return 0, 0
    return len(parser.statements), sum(n for n in parser.exit_counts().values() if n > 1)


class CoverageUnion:
    def __init__(self, targets: list[str]) -> None:
        self.files: dict[str, FileUnion] = {t: FileUnion() for t in targets}
        # Held from choosing a candidate's tests against the union to adding their coverage to it.
        self.lock = asyncio.Lock()

    @classmethod
    async def sized(cls, repo: Path, targets: list[str]) -> CoverageUnion:
        """A union whose targets count from the start: a file no test reaches is 0 % of its size."""
        union = cls(targets)
        sizes = await asyncio.to_thread(lambda: {t: static_size(repo / t) for t in targets})
        for target, (statements, branches) in sizes.items():
            union.files[target].statements, union.files[target].branches = statements, branches
        return union

    def gain(self, coverage: dict[str, Any] | None) -> int:
        """Lines plus branches this run would add."""
        if not coverage:
            return 0
        added = 0
        for f in coverage["files"]:
            have = self.files.setdefault(f["path"], FileUnion())
            added += len(set(f["executed_lines"]) - have.lines)
            added += len({tuple(b) for b in f["executed_branches"]} - have.arcs)
        return added

    def add(self, coverage: dict[str, Any] | None) -> None:
        if not coverage:
            return
        for f in coverage["files"]:
            have = self.files.setdefault(f["path"], FileUnion())
            have.statements = f["lines_total"]
            have.branches = f["branches_total"]
            have.lines |= set(f["executed_lines"])
            have.arcs |= {tuple(b) for b in f["executed_branches"]}
            have.missing = (set(f["missing_lines"]) | set(f["executed_lines"])) - have.lines
            have.reported = True

    def start_from(self, baseline: dict[str, Any] | None) -> dict[str, Any] | None:
        """What the repository's own tests covered, added first; the baseline as this union sizes it.

        The baseline comes back from the store: one that does not read as a coverage record is left out
        (None), never trusted half-way.
        """
        if not baseline:
            return None
        files = baseline.get("files") if isinstance(baseline, dict) else None
        if not isinstance(files, list) or not all(map(_coverage_record, files)):
            return None
        self.add({"files": [f for f in files if f["path"] in self.files]})
        return self.to_json()

    def measured(self, target: str) -> bool:
        """Whether a run has reported on ``target`` yet (before that, ``missing`` is empty, not "nothing")."""
        return self.files[target].reported

    def rate(self, target: str) -> float:
        return self.files[target].line_rate

    @property
    def line_rate(self) -> float:
        total = sum(f.statements for f in self.files.values())
        return sum(len(f.lines) for f in self.files.values()) / total if total else 0.0

    @property
    def branch_rate(self) -> float:
        total = sum(f.branches for f in self.files.values())
        if not total:
            return 1.0 if any(f.lines for f in self.files.values()) else 0.0
        return sum(len(f.arcs) for f in self.files.values()) / total

    def to_json(self) -> dict[str, Any]:
        return {
            "line_rate": self.line_rate,
            "branch_rate": self.branch_rate,
            "files": [
                {"path": p, "line_rate": f.line_rate, "branch_rate": f.branch_rate,
                 "lines_covered": len(f.lines), "lines_total": f.statements,
                 "branches_covered": len(f.arcs), "branches_total": f.branches,
                 "missing_lines": sorted(f.missing),
                 # What ran, so that another union can start from this one (agents/baseline.py).
                 "executed_lines": sorted(f.lines), "executed_branches": sorted([a, b] for a, b in f.arcs)}
                for p, f in self.files.items()
            ],
        }


def _coverage_record(f: Any) -> bool:
    """One file of a coverage record, every figure a whole number (a record read back from the store)."""
    try:
        figures = [*f["executed_lines"], *f["missing_lines"], f["lines_total"], f["branches_total"],
                   *(x for pair in f["executed_branches"] for x in pair)]
        return (isinstance(f["path"], str) and all(len(pair) == 2 for pair in f["executed_branches"])
                and all(isinstance(x, int) and not isinstance(x, bool) for x in figures))
    except (KeyError, TypeError):
        return False


def still_covers(new: dict[str, Any] | None, old: dict[str, Any]) -> bool:
    """Whether ``new`` executed every line and branch ``old`` did, file by file (two coverage records)."""
    if not new:
        return False
    files = {f["path"]: f for f in new["files"]}
    for f in old["files"]:
        now = files.get(f["path"])
        if now is None or not set(f["executed_lines"]) <= set(now["executed_lines"]):
            return False
        if not {tuple(b) for b in f["executed_branches"]} <= {tuple(b) for b in now["executed_branches"]}:
            return False
    return True


async def measured_again(execute: Any, repository: Path, targets: list[str], baseline: dict[str, Any] | None,
                         files: list[dict[str, Any]]) -> CoverageUnion:
    """The repository's figure from the files as they go out, each run measured once more (``execute``:
    Phase2.execute). For when a file changed after the union was built: the mutation gate took it back to
    its generated form, which lacks the typical calls' rows distillation added (their lines counted)."""
    union = await CoverageUnion.sized(repository, targets)
    union.start_from(baseline)
    for run in await asyncio.gather(*(execute(f["code"], repository, [f["target_file"]]) for f in files)):
        if run.get("status") == "success":
            union.add(run.get("coverage"))
    return union
