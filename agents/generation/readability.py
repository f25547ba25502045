"""What a reviewer notices first in a test file, counted (bench/readability.py, and the tests' targets).

Measured on the source alone: tests (a parametrized test counts once),
statements per test, placeholder names (``var_0``, ``str_1``,
``module_0``, CrossHair's ``_r0``), the longest literal, tests that assert
nothing (no ``assert``, no ``pytest.raises``, no docstring saying "does not
raise"), names assigned and never read, modules imported twice, and tests
whose name promises a function they never call.
"""

from __future__ import annotations

import ast
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from engine.python_source import parse_source

PLACEHOLDER = re.compile(r"^(var|str|int|float|bool|bytes|list|dict|set|tuple|module|none|complex|object)_\d+$|^_r\d+$")


@dataclass
class Readability:
    tests: int = 0
    median_statements: float = 0.0
    p90_statements: float = 0.0
    placeholder_share: float = 0.0
    longest_literal: int = 0
    assert_share: float = 0.0
    unused_names: int = 0
    duplicate_imports: int = 0
    misnamed: int = 0


def measure(code: str) -> Readability:
    try:
        tree = parse_source(code)
    except SyntaxError:
        return Readability()
    tests = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and n.name.startswith("test")]
    if not tests:
        return Readability()
    sizes = sorted(_statements(t) for t in tests)
    imports = Counter(ast.unparse(a) if isinstance(n, ast.Import) else f"{n.module}.{a.name}"
                      for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names)
    literals = [len(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)
                and isinstance(n.value, (str, bytes)) and not _is_docstring_node(n, tree)]
    return Readability(
        tests=len(tests),
        median_statements=statistics.median(sizes),
        p90_statements=sizes[min(len(sizes) - 1, int(0.9 * len(sizes)))],
        placeholder_share=sum(1 for t in tests if _has_placeholder(t)) / len(tests),
        longest_literal=max(literals, default=0),
        assert_share=sum(1 for t in tests if asserts(t)) / len(tests),
        unused_names=sum(_unused(t) for t in tests),
        duplicate_imports=sum(c - 1 for c in imports.values() if c > 1),
        misnamed=sum(1 for t in tests if not _name_matches(t)),
    )


def _statements(test: ast.AST) -> int:
    body = [s for s in test.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return sum(1 for s in body for n in ast.walk(s) if isinstance(n, ast.stmt))


def _has_placeholder(test: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and PLACEHOLDER.match(n.id) for n in ast.walk(test))


def asserts(test: ast.AST) -> bool:
    """An ``assert``, a ``pytest.raises``, or a docstring that says the test checks only that nothing raises."""
    doc = ast.get_docstring(test) or ""
    return ("does not raise" in doc or any(isinstance(n, ast.Assert) for n in ast.walk(test))
            or any(isinstance(n, ast.Call) and ast.unparse(n.func) in ("pytest.raises", "_run_examples")
                   for n in ast.walk(test)))


def _unused(test: ast.AST) -> int:
    stored = [n.id for n in ast.walk(test) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    loaded = {n.id for n in ast.walk(test) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sum(1 for name in set(stored) if name not in loaded)


def _name_matches(test: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A test named ``test_<f>_...`` calls ``f`` (or a method or class of that name)."""
    called: set[str] = set()
    for n in ast.walk(test):
        if not isinstance(n, ast.Call):
            continue
        chain, func = [], n.func
        while isinstance(func, ast.Attribute):
            chain.insert(0, func.attr)
            func = func.value
        names = chain or [getattr(func, "id", "")]
        # ``m.__RomanNumbers.decode`` may be named ``roman_numbers_decode`` or ``decode``.
        called |= {"_".join(_snake(c) for c in names[i:]) for i in range(len(names))}
    words = test.name.removeprefix("test_").strip("_")
    return any(words == c or words.startswith(c + "_") for c in called if c) or not called


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().strip("_")


def _is_docstring_node(node: ast.Constant, tree: ast.Module) -> bool:
    for owner in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        body = owner.body
        if body and isinstance(body[0], ast.Expr) and body[0].value is node:
            return True
    return False
