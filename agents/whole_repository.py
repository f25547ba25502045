"""A whole-repository request: which modules it covers and what share of the search budget each gets.

A QA engineer's repository has dozens of modules; ticking them all shared one budget with no
plan for which module deserved the time (issue 27). A request with no target files (or
``"*"``) means "every module without tests": a module counts as tested when a test file is
named after it (``test_<name>.py``, ``<name>_test.py``) or imports it. Files with nothing to
test (no function or class: ``__init__`` re-exports, version files, ``__main__``) and the
build's own scripts are left out. The budget is split by what is left to cover: each
module's statements the repository's own tests do not run (the analysis step's baseline, or
coverage.py's parser count when there are no tests), above a floor of half an equal share:
a small module reaches most of what it can in a few seconds, but not in none (docstring_parser's
41-statement ``util`` got 9 s of 120 by statements alone and reached 88 % where Pynguin's equal
15 s reached 98 %). A budget too small for every module at the least floor goes to the modules
with the most left to cover, and the rest are named as skipped.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from agents.coverage_union import static_size
from engine.generate_request import (
    MAX_TARGET_FILES,
    SEARCH_TIME_MAX_S,
    SEARCH_TIME_MIN_S,
)
from engine.python_source import parse_source

# Build and tool scripts at a repository's top level: not the code a user wants tests for.
_NOT_MODULES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "manage.py", "__main__.py",
                "_version.py", "version.py", "__about__.py"}
_NOT_SOURCE_DIRS = {"docs", "doc", "examples", "example", "benchmarks", "bench", "scripts", "tools", "migrations"}
_LARGEST_SOURCE = 2_000_000


@dataclass(frozen=True)
class Share:
    target: str
    uncovered: int  # statements left to cover when the request starts
    search_s: int  # its share of the request's search budget


@dataclass
class BudgetPlan:
    shares: list[Share] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # modules the budget could not reach at the floor

    @property
    def note(self) -> str:
        """One line for the run log and the result."""
        if not self.shares:
            return "nothing left to cover"
        spread = ", ".join(f"{s.target} {s.search_s} s" for s in self.shares[:6])
        more = f" and {len(self.shares) - 6} more" if len(self.shares) > 6 else ""
        skipped = (f"; {len(self.skipped)} module(s) skipped, the budget allows {SEARCH_TIME_MIN_S} s for "
                   f"{len(self.shares)} at most: {', '.join(self.skipped[:5])}" if self.skipped else "")
        return f"search budget split by statements left to cover: {spread}{more}{skipped}"


def untested_modules(repo: Path, files: list[str], tests: list[str]) -> list[str]:
    """The repository's modules no test file is named after or imports, with something to test. Blocking."""
    tested = _tested_names(repo, tests)
    test_set = set(tests)
    found = []
    for rel in files:
        path = PurePosixPath(rel)
        if rel in test_set or path.name in _NOT_MODULES or set(path.parts[:-1]) & _NOT_SOURCE_DIRS:
            continue
        if _dotted_names(path) & tested or path.stem in tested:
            continue
        if _defines_something(repo / rel):
            found.append(rel)
    return found[:MAX_TARGET_FILES]


def _dotted_names(path: PurePosixPath) -> set[str]:
    """Every name an import of this file could use: ``src/pkg/mod.py`` -> pkg.mod, mod (and src.pkg.mod)."""
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts))} - {""}


def _tested_names(repo: Path, tests: list[str]) -> set[str]:
    """Module names the tests are named after or import (dotted, and each dotted tail)."""
    names: set[str] = set()
    for rel in tests:
        stem = PurePosixPath(rel).stem
        if stem.startswith("test_"):
            names.add(stem.removeprefix("test_"))
        elif stem.endswith("_test"):
            names.add(stem.removesuffix("_test"))
        try:
            source = (repo / rel).read_text(encoding="utf-8", errors="replace")
            tree = parse_source(source) if len(source) < _LARGEST_SOURCE else None
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                imported = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for name in imported:
                # "import pkg.mod" names pkg.mod; a test of pkg.mod alone does not test pkg's other modules.
                names.add(name)
    return names


def _defines_something(path: Path) -> bool:
    """Whether the file has a function or class of its own (a module of re-exports has nothing to test)."""
    try:
        if path.stat().st_size > _LARGEST_SOURCE:
            return False
        tree = parse_source(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in tree.body)


def left_to_cover(repo: Path, targets: list[str], baseline: dict[str, Any] | None) -> dict[str, int]:
    """Statements of each target that the repository's own tests do not run. Blocking (sizes files)."""
    measured = {f["path"]: max(0, int(f["lines_total"]) - int(f["lines_covered"]))
                for f in (baseline or {}).get("files", []) if isinstance(f, dict) and "lines_total" in f}
    return {t: measured[t] if t in measured else static_size(repo / t)[0] for t in targets}


def split_budget(left: dict[str, int], budget_s: int, *, floor_s: int = SEARCH_TIME_MIN_S,
                 searching: bool = True) -> BudgetPlan:
    """Each target's share of ``budget_s`` by statements left (at least ``floor_s`` and half an equal share, at most
    the request's cap).

    Modules with nothing left get no share. When ``budget_s`` cannot give every module its floor,
    the modules with the most left get it and the others are skipped (named in the plan). Without
    a search (``searching`` false: the model writes the tests, the budget only bounds the
    symbolic pass) no module is skipped: each gets at least the floor.
    """
    todo = sorted(((t, n) for t, n in left.items() if n > 0), key=lambda item: (-item[1], item[0]))
    if not searching:
        budget_s = max(budget_s, floor_s * len(todo))
    fits = max(1, budget_s // floor_s)
    plan = BudgetPlan(skipped=[t for t, _ in todo[fits:]])
    todo = todo[:fits]
    if searching and todo:
        floor_s = max(floor_s, budget_s // (2 * len(todo)))  # half an equal share
    total = sum(n for _, n in todo)
    spare = budget_s - floor_s * len(todo)  # what is shared in proportion, above every module's floor
    for target, n in todo:
        share = floor_s + math.floor(spare * n / total) if total else floor_s
        plan.shares.append(Share(target, n, int(min(SEARCH_TIME_MAX_S, max(floor_s, share)))))
    return plan
