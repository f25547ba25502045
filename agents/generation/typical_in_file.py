"""The typical calls placed in one test file: through its own binding of the module, with what they import.

agents/generation/typical_calls.py reads the calls from the module's source; here they
meet a test file (agents/distil_step.py distils one): called through the name the file
already binds the module to (``import fmt as fmt_``, Pynguin's ``version_ =
sys.modules[...]``), else by name, imported if the file does not import it yet (with the
standard modules the values name, ``datetime``), never through a name the file binds to
something else. Which of them stay is decided after their observed run: a typical call
that passed with a value written out (``shows``), a row only where it runs a line
nothing chosen runs (``rows_adding``). CPU and syntax-tree work: call it in a thread.
"""

from __future__ import annotations

import ast

from agents.generation.observe import Observed
from agents.generation.test_units import TestFile, Unit
from agents.generation.typical_calls import typical_units
from agents.generation.unit_slice import Cover


def typical_in_file(parts: TestFile, module: str, leaf_is_module: bool) -> tuple[list[Unit], list[Unit]]:
    """The typical calls and their rows for ``parts`` (its imports extended for them).

    ``leaf_is_module``: ``from package import leaf`` gives the module itself (agents/generation/import_root.py).
    """
    by_name = {name for name, mod in parts.imported.items() if mod == module}
    prefix = _alias_of(parts, module, leaf_is_module)
    found = typical_units(parts.module_source, prefix, by_name, blocked=frozenset(_bound_otherwise(parts, module)))
    for name in sorted(found.modules):
        if not any(isinstance(n, ast.Import) and [(a.name, a.asname) for a in n.names] == [(name, None)]
                   for n in parts.imports):
            parts.imports.append(ast.Import([ast.alias(name)]))
    for name in sorted(found.names):
        parts.imports.append(ast.ImportFrom(module, [ast.alias(name)], 0))
        parts.imported[name] = module
    return found.units, found.rows


def shows(observed: Observed | None) -> bool:
    """A typical call (or row) that passed with a result written as a value."""
    return observed is not None and observed.passed and _printable(observed)


def rows_adding(rows: list[int], covers: list[Cover], chosen: list[int]) -> set[int]:
    """The rows, in order, that each run a line or branch the chosen units and the rows before them do not."""
    have: set = set().union(*(covers[i] for i in chosen)) if chosen else set()
    picked = set()
    for i in rows:
        if covers[i] - have:
            picked.add(i)
            have |= covers[i]
    return picked


def _bound_otherwise(parts: TestFile, module: str) -> set[str]:
    """Names the file binds to something other than the module under test's own names or a standard module
    imported plainly: a typical call must not rely on binding them anew."""
    bound: set[str] = set()
    for node in parts.imports:
        for alias in getattr(node, "names", []):
            name = alias.asname or alias.name.split(".")[0]
            own = isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0
            plain = isinstance(node, ast.Import) and alias.asname is None and "." not in alias.name
            if (not own and not plain) or (plain and name == module.split(".")[0]):
                bound.add(name)
    for node in parts.others:
        for target in getattr(node, "targets", []):
            bound |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
    return bound | set(parts.aliases)


def _printable(observed: Observed) -> bool:
    """A typical call is worth showing only with a result written as a value (not "does not raise")."""
    seen = observed.seen.get("0")
    return seen is not None and (seen.repr is not None or seen.length is not None or seen.made is not None)


def _alias_of(parts: TestFile, module: str, leaf_is_module: bool = False) -> str | None:
    """The name the file binds the module under test to (``slugify_``, ``module_0``, ``import fmt as fmt_``,
    ``from arrow import formatter``), if it binds one: the typical calls go through it, as the file's own do."""
    for node in parts.others + parts.imports:
        text = ast.unparse(node)
        for alias in sorted(parts.aliases):
            if f"sys.modules['{module}']" in text and text.startswith(alias) or f"import {module} as {alias}" in text:
                return alias
    for node in parts.imports:
        for name in getattr(node, "names", []):
            if isinstance(node, ast.Import) and name.name == module and (name.asname or "." not in module):
                return name.asname or module
            # ``from slugify import slugify`` is the function the package exports, not the module: only where the
            # package binds the leaf to the module itself (agents/generation/import_root.py).
            if isinstance(node, ast.ImportFrom) and node.level == 0 and f"{node.module}.{name.name}" == module \
                    and leaf_is_module:
                return name.asname or name.name
    return None
