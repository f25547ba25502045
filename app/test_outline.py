"""Generated tests grouped by the function they exercise, with that function's coverage.

A result used to be one wall of code (issue 14). This reads the target
files and the generated test files with ``ast`` (never importing either:
they are the repository's code) and groups each test under the target
functions it calls, so the Result tab can show, IDE-like, file → function
(lines covered / lines) → tests, and jump to a test's code.

Coverage per function comes from the measured result: the statement lines
inside the function's span that coverage.py did not report missing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import BadResult
from engine.python_source import parse_source
from engine.result_paths import inside

OTHER = "(other)"


@dataclass
class FunctionTests:
    name: str
    lines_total: int = 0
    lines_covered: int = 0
    tests: list[tuple[str, str, int]] = field(default_factory=list)  # (test file, test name, line)

    @property
    def rate(self) -> float | None:
        return self.lines_covered / self.lines_total if self.lines_total else None


@dataclass
class FileOutline:
    path: str
    functions: list[FunctionTests]


def _functions(source: str) -> dict[str, tuple[int, int, set[int]]]:
    """name (Class.method for methods) -> (first line, last line, statement lines)."""
    out: dict[str, tuple[int, int, set[int]]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stmts = {n.lineno for n in ast.walk(child) if isinstance(n, ast.stmt)} - {child.lineno}
                out[prefix + child.name] = (child.lineno, child.end_lineno or child.lineno, stmts)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(parse_source(source), "")
    return out


def _tests(source: str) -> list[tuple[str, int, set[str]]]:
    """(test name, line, names it calls) for each test function of a generated file."""
    found = []
    for node in ast.walk(parse_source(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            called = set()
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    fn = call.func
                    if isinstance(fn, ast.Attribute):
                        called.add(fn.attr)
                    elif isinstance(fn, ast.Name):
                        called.add(fn.id)
            found.append((node.name, node.lineno, called))
    return found


def outline(result: dict[str, Any]) -> list[FileOutline]:
    """Per target file: its functions with coverage and the tests that call them. Reads files: run it
    off the event loop."""
    repo = Path(result["repository"]) if result.get("repository") else None
    coverage = {f["path"]: f for f in result.get("coverage_by_file") or []}
    tests = []
    for test_file, code in (result.get("files") or {}).items():
        try:
            tests += [(test_file, *t) for t in _tests(code)]
        except SyntaxError:
            continue
    parsed: dict[str, dict[str, tuple[int, int, set[int]]]] = {}
    for path in coverage:
        try:  # the paths are the result's, which is input: only files inside the repository are read
            source = inside(repo, path).read_text(encoding="utf-8", errors="replace") if repo is not None else ""
            parsed[path] = _functions(source)
        except (OSError, SyntaxError, BadResult):
            parsed[path] = {}
    groups: dict[str, dict[str, FunctionTests]] = {}
    for path, functions in parsed.items():
        missing = set(coverage[path].get("missing_lines") or [])
        groups[path] = {name: FunctionTests(name, len(stmts), len(stmts - missing))
                        for name, (_, _, stmts) in functions.items()}
    other = FunctionTests(OTHER)
    for test_file, name, line, called in tests:
        hits = [(path, f) for path, functions in parsed.items() for f in functions if f.split(".")[-1] in called]
        for path, function in hits:
            groups[path][function].tests.append((test_file, name, line))
        if not hits:
            other.tests.append((test_file, name, line))
    out = [FileOutline(path, [g for g in funcs.values() if g.tests or g.lines_total]) for path, funcs in groups.items()]
    if other.tests and out:
        out[-1].functions.append(other)
    return out
