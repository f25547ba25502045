"""How a generator's own assertion reads in a kept test.

Distillation keeps an assertion as written where it does not check a value it saw itself
(agents/generation/distil.py); written as a person would: ``x is None``, not ``x == None``; a type by its
name; and, in a unit whose inputs hold a set of several texts, a text or list by its length, since the
order that set iterates in is the run's hash seed's.
"""

from __future__ import annotations

import ast
import copy


def hash_ordered(body: list[ast.stmt]) -> bool:
    """Whether the unit passes a set of several elements with a text among them (``{'to', 865.44}``): the order
    Python iterates it in is the run's hash seed's, and a text or list made from it differs run to run
    (marshmallow's ``OneOf(choices=...).choices_text``: a kept test failed one bench rerun in three)."""
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            continue
        for node in ast.walk(stmt):
            elements = node.elts if isinstance(node, ast.Set) else None
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("set", "frozenset")
                    and node.args and isinstance(node.args[0], (ast.List, ast.Tuple, ast.Set))):
                elements = node.args[0].elts
            if elements and len(elements) > 1 and any(
                    isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)) for e in elements):
                return True
    return False


def as_length(stmt: ast.Assert) -> ast.Assert:
    """A generator's ``x == '<text>'`` (or a list or tuple) in a hash-ordered unit, as its length: the same
    elements, in an order the run decides."""
    test = stmt.test
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], (ast.Constant, ast.List, ast.Tuple))):
        expected = test.comparators[0]
        size = (len(expected.value) if isinstance(expected, ast.Constant) and isinstance(expected.value, (str, bytes))
                else len(expected.elts) if isinstance(expected, (ast.List, ast.Tuple)) else None)
        if size is not None and size > 1:
            length = ast.Call(ast.Name("len", ast.Load()), [copy.deepcopy(test.left)], [])
            return ast.Assert(ast.Compare(length, [ast.Eq()], [ast.Constant(size)]))
    return tidy_assert(stmt)


def tidy_assert(stmt: ast.Assert) -> ast.Assert:
    """``x == None`` reads ``x is None``; Pynguin's check of a type the test does not import,
    ``f"{type(x).__module__}.{type(x).__qualname__}" == "validators.utils.ValidationError"``, reads
    ``type(x).__qualname__ == "ValidationError"``."""
    test = stmt.test
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
        test.ops = [ast.Is()]
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.left, ast.JoinedStr) and isinstance(test.comparators[0], ast.Constant)
            and isinstance(test.comparators[0].value, str)
            and (subject := _qualified_type_of(test.left)) is not None):
        name = test.comparators[0].value.rsplit(".", 1)[-1]
        kind = ast.Call(ast.Name("type", ast.Load()), [subject], [])
        stmt.test = ast.Compare(ast.Attribute(kind, "__qualname__", ast.Load()), [ast.Eq()], [ast.Constant(name)])
    return stmt


def _qualified_type_of(text: ast.JoinedStr) -> ast.expr | None:
    """``x`` of ``f"{type(x).__module__}.{type(x).__qualname__}"``, or None for any other f-string."""
    parts = [v.value for v in text.values if isinstance(v, ast.FormattedValue)]
    if len(parts) != 2 or [getattr(p, "attr", "") for p in parts] != ["__module__", "__qualname__"]:
        return None
    calls = [p.value for p in parts if isinstance(p, ast.Attribute)]  # type: ignore[attr-defined]
    if not all(isinstance(c, ast.Call) and ast.unparse(c.func) == "type" and len(c.args) == 1 for c in calls):
        return None
    first, second = (ast.unparse(c.args[0]) for c in calls)  # type: ignore[attr-defined]
    return calls[0].args[0] if first == second else None  # type: ignore[attr-defined]
