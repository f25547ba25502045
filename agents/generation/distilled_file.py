"""The distilled units as a file: each written from its values, or as generated; the file's header; the pieces
of a generated file distillation works on (agents/distil_step.py runs and checks every form).
"""

from __future__ import annotations

import ast

from agents.generation.assert_forms import as_length, hash_ordered
from agents.generation.chain_cut import cut_at_values
from agents.generation.distil import SHRINK_FAILED, Distilled, distil_unit
from agents.generation.observe import Observed
from agents.generation.test_layout import Laid, lay_out
from agents.generation.test_units import TestFile, Unit, split_test
from engine.python_source import parse_source


def written_file(parts: TestFile, header: str, units: list[Unit], unshrunk: list[Unit],
                 observed: list[Observed | None], chosen: list[int], plain: frozenset[int],
                 submodules: frozenset[str], long_reason: str = SHRINK_FAILED) -> tuple[str, list[Laid]]:
    """The chosen units distilled (or as written, before any shrink, where ``plain``), laid out as a file."""
    tests = [Laid(as_written(unshrunk[i]) if i in plain or observed[i] is None
                  else distil_unit(units[i], observed[i].seen, parts, long_reason=long_reason), [i]) for i in chosen]
    return lay_out(parts, header, tests, tables=not plain, submodules=submodules)


def cut_chains(units: list[Unit], observed: list[Observed | None]) -> list[Unit]:
    return [piece for unit, seen in zip(units, observed, strict=True)
            for piece in (cut_at_values(unit, seen.seen) if seen is not None and seen.passed else [unit])]


def pynguin_harness(node: ast.stmt) -> bool:
    """Pynguin's random-seeding preamble (``_pynguin_*`` names), which a test needs only if it uses ``random``."""
    return any(isinstance(n, (ast.Name, ast.FunctionDef)) and getattr(n, "id", getattr(n, "name", "")).startswith(
        "_pynguin") for n in ast.walk(node))


def whole_tests(code: str, parts: TestFile) -> list[Unit]:
    """The tests as they are, one unit each (values still observed): for tests that share state."""
    tree = parse_source(code)
    units = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            split = split_test(node, parts.aliases)
            if len(split) == 1:
                units += split
            else:
                units.append(Unit(node.name, [s for u in split for s in u.body], split[0].decorators))
    return units


def as_written(unit: Unit) -> Distilled:
    """The unit as generated; in a hash-ordered one, a text or list compared whole is compared by length."""
    body = [as_length(s) if isinstance(s, ast.Assert) else s for s in unit.body] if hash_ordered(unit.body) \
        else unit.body
    return Distilled(unit.source, body, unit.decorators, function=unit.source.removeprefix("test_"))


def file_header(code: str) -> str:
    """The file's docstring and import-path lines, as generated (agents/generation/__init__.py)."""
    lines = code.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("sys.path.insert("):
            return "\n".join(lines[:index + 1]) + "\n"
    tree = parse_source(code)
    docstring = ast.get_docstring(tree, clean=False)
    return f'"""{docstring}"""\n' if docstring else ""
