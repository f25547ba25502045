"""Keep tests one by one, then the fewest that hold the coverage.

A generated file used to be kept or dropped whole: one failing test out of
88 threw away the 87 that passed (issue 11). Here a candidate's failing,
erroring and flaky tests are cut out of its source individually, and of
the tests left, a greedy pass keeps only those that add lines or branches
to what the request already covers (largest gain first), so the file a
person reads is as short as the coverage allows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from agents.coverage_union import CoverageUnion
from engine.python_source import parse_source

IMPORT_KEY = "<import>"  # engine/pytest_run.py: lines run while importing, before any test


def collect_test_keys(code: str) -> list[str]:
    """Top-level ``test*`` functions and ``Test*`` class methods, as "name" / "Class.name"."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return []
    keys: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            keys.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            keys += [f"{node.name}.{item.name}" for item in node.body
                     if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")]
    return keys


def outcome_key(outcome: dict[str, Any]) -> str:
    """The key of a junit outcome: its class joins the name when the test is a method."""
    classname = outcome.get("classname") or ""
    module, _, cls = classname.partition(".")
    return f"{cls}.{outcome['name']}" if cls else outcome["name"]


def keep_only(code: str, keep: Iterable[str]) -> str:
    """``code`` without the tests not in ``keep`` (decorators included); a class left empty goes too."""
    wanted = set(keep)
    tree = parse_source(code)
    cut: list[tuple[int, int]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            if node.name not in wanted:
                cut.append(_span(node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [m for m in node.body
                       if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test")]
            gone = [m for m in methods if f"{node.name}.{m.name}" not in wanted]
            if methods and len(gone) == len(methods):
                cut.append(_span(node))
            else:
                cut += [_span(m) for m in gone]
    lines = code.splitlines(keepends=True)
    for start, end in sorted(cut, reverse=True):
        del lines[start - 1:end]
    text = "".join(lines)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text


def _span(node: ast.AST) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])
    return start, node.end_lineno or node.lineno


def passing(outcomes: list[dict[str, Any]]) -> set[str]:
    return {outcome_key(o) for o in outcomes if o["outcome"] in ("passed", "xpassed")}


def select_minimal(per_test: dict[str, dict[str, dict[str, list]]], union: CoverageUnion,
                   candidates: Iterable[str]) -> list[str]:
    """Greedy set cover: repeatedly take the test adding the most new lines plus branches.

    ``union`` is what the request covers already; it is not changed here.
    Ties go to the earlier test, so the result is stable.
    """
    have_lines = {path: set(f.lines) for path, f in union.files.items()}
    have_arcs = {path: set(f.arcs) for path, f in union.files.items()}
    for path, cov in per_test.get(IMPORT_KEY, {}).items():
        have_lines.setdefault(path, set()).update(cov["lines"])
        have_arcs.setdefault(path, set()).update(tuple(b) for b in cov["branches"])
    pool = [key for key in candidates if key in per_test]
    chosen: list[str] = []
    while pool:
        best, best_gain = None, 0
        for key in pool:
            gain = 0
            for path, cov in per_test[key].items():
                gain += len(set(cov["lines"]) - have_lines.get(path, set()))
                gain += len({tuple(b) for b in cov["branches"]} - have_arcs.get(path, set()))
            if gain > best_gain:
                best, best_gain = key, gain
        if best is None:
            break
        chosen.append(best)
        pool.remove(best)
        for path, cov in per_test[best].items():
            have_lines.setdefault(path, set()).update(cov["lines"])
            have_arcs.setdefault(path, set()).update(tuple(b) for b in cov["branches"])
    order = {key: i for i, key in enumerate(candidates)}
    return sorted(chosen, key=lambda key: order.get(key, 0))
