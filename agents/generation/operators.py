"""Dunder calls in a distilled test, written as the operators and calls a person writes.

Search calls ``timer.__eq__(other=timer_3)``, ``box.__len__()`` and ``check.__call__(value=1)`` by name;
agents/generation/distil.py rewrites each assertion with ``Operators``, and every statement with ``Calls``.
"""

from __future__ import annotations

import ast

_COMPARISONS: dict[str, type[ast.cmpop]] = {"__eq__": ast.Eq, "__ne__": ast.NotEq, "__lt__": ast.Lt,
                                             "__le__": ast.LtE, "__gt__": ast.Gt, "__ge__": ast.GtE}
# ``a.__eq__(b) is False`` reads ``a != b``; an order is negated with ``not``: ``not a < b`` calls ``__lt__`` as the
# test did, where ``a >= b`` called ``__ge__`` (semver: the distilled file lost ``__lt__``'s line and went back
# to its generated form; and for a partial order the two do not even say the same).
_NEGATED: dict[type[ast.cmpop], type[ast.cmpop]] = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_BUILTINS = {"__len__": "len", "__str__": "str", "__repr__": "repr", "__hash__": "hash", "__bool__": "bool"}


class Operators(ast.NodeTransformer):
    """Search calls dunders by name (codetiming: ``assert timer.__eq__(other=timer_3) is False``); a person
    writes ``assert timer != timer_3`` and ``len(box)``. Only inside assertions, where the reruns that verify
    the file decide whether the operator says the same (``!=`` inverts ``__eq__`` unless it declines)."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], ast.Is) and isinstance(node.comparators[0], ast.Constant) \
                and isinstance(node.comparators[0].value, bool) and (pair := _dunder_comparison(node.left)):
            left, op, right = pair
            if node.comparators[0].value:
                return ast.copy_location(ast.Compare(left, [op()], [right]), node)
            if op in _NEGATED:
                return ast.copy_location(ast.Compare(left, [_NEGATED[op]()], [right]), node)
            return ast.copy_location(ast.UnaryOp(ast.Not(), ast.Compare(left, [op()], [right])), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _BUILTINS and not node.args and not node.keywords:
            return ast.copy_location(ast.Call(ast.Name(_BUILTINS[func.attr], ast.Load()), [func.value], []), node)
        return node


class Calls(ast.NodeTransformer):
    """``validator.__call__(value=3)`` is ``validator(value=3)``: marshmallow's kept tests called every validator
    by the dunder's name. Everywhere in a test, not only in assertions (a call expected to raise too); not on a
    class (``C.__call__`` is the class's own method, not a construction)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "__call__" and isinstance(func.value, ast.Name) \
                and not func.value.id[:1].isupper():
            return ast.copy_location(ast.Call(func.value, node.args, node.keywords), node)
        return node


def _dunder_comparison(node: ast.expr) -> tuple[ast.expr, type[ast.cmpop], ast.expr] | None:
    """(left, operator, right) of ``left.__eq__(right)`` (positional or by keyword), or None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _COMPARISONS):
        return None
    arguments = [*node.args, *(k.value for k in node.keywords if k.arg is not None)]
    if len(arguments) != 1 or any(k.arg is None for k in node.keywords):
        return None
    return node.func.value, _COMPARISONS[node.func.attr], arguments[0]
