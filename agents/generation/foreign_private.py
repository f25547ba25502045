"""Tests that lean on another package's private names: a reviewer does not keep them.

CrossHair builds arguments from whatever type fits, wherever it lives: the
kept ``isodate`` file held ``duration_isoformat(tduration=0,
format=FoldedCase())`` with ``from importlib.metadata._text import
FoldedCase``, a private class of the standard library passed as a format
string. Such a test pins an accident of another package's internals; it
breaks when that package moves a private name, and says nothing about the
code under test that a public value would not say better. The package
under test's own private names stay (its private modules are often the
target: ``bidict._base``).
"""

from __future__ import annotations

import ast

from engine.python_source import parse_source


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
               for part in dotted.split("."))


def foreign_private_names(tree: ast.Module, own_top: str) -> set[str]:
    """Names the file binds to another package's private module or private name."""
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] == own_top:
                continue
            for alias in node.names:
                if _private(node.module) or _private(alias.name):
                    bound.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != own_top and _private(alias.name):
                    bound.add(alias.asname or alias.name.split(".")[0])
    return bound


def leaning_on_foreign_private(code: str, own_top: str) -> list[str]:
    """Top-level tests of ``code`` that use a name bound to another package's private module or name."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return []
    bound = foreign_private_names(tree, own_top)
    if not bound:
        return []
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            if any(isinstance(n, ast.Name) and n.id in bound for n in ast.walk(node)):
                out.append(node.name)
    return out
