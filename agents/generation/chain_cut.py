"""A chain of calls cut where a result is a value a person can write.

Search chains calls through their results: Pynguin's
``result = pascalize(()); pascalize(result); result_2 = is_snakecase(result);
dekebabize(result_2)`` is one test of six statements named after its last
call, though it is four calls on three values. Once the chain has run in
observe form, each result that reads back as a short literal (``'()'``,
``True``) is known; written in place of its name, it no longer ties the
calls together, and each call becomes a test of its own
(``assert dekebabize(str_or_iter=True) == 'True'``). A result that is an
object (a ``Version``, a parser) is not a value anyone can write: the calls
on it stay together. The pieces are observed again and checked like every
other rewrite (agents/distil_step.py): nothing here is trusted unrun.
"""

from __future__ import annotations

import ast
import copy

from agents.generation.observe import Seen
from agents.generation.test_units import Unit, call_of, is_raises
from engine.python_source import literal_eval, parse_source

LONG = 80  # a value longer than this keeps its name: the test would be harder to read, not easier


def cut_at_values(unit: Unit, seen: dict[str, Seen]) -> list[Unit]:
    """The unit's calls as separate units where the values between them are short literals; ``[unit]``
    when nothing can be cut."""
    if unit.plain:
        return [unit]
    body = unit.body
    values: dict[str, ast.expr] = {}  # name -> the literal it holds at this point
    owner: dict[str, int] = {}  # name -> the piece that made it (an object)
    parent: list[int] = []
    pieces: list[list[tuple[int, ast.stmt]]] = []  # (index in the unit, statement)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for index, stmt in enumerate(body):
        stmt = copy.deepcopy(stmt)
        used = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if isinstance(stmt, ast.Assert):
            # An assertion about a name goes with the piece that made it; one on a literal now checks nothing.
            homes = {find(owner[n]) for n in used if n in owner}
            if len(homes) == 1:
                pieces[homes.pop()].append((index, stmt))
            continue
        _Substitute(values).visit(stmt)
        ties = {find(owner[n]) for n in used if n in owner and n not in values}
        target = stmt.targets[0].id if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) else None
        if target is not None and call_of(stmt) is None and not ties:
            try:
                ast.literal_eval(stmt.value)
                values[target] = stmt.value  # a literal assignment: written where it is used
                owner.pop(target, None)
                continue
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
        parent.append(len(pieces))
        pieces.append([(index, stmt)])
        here = len(pieces) - 1
        for tie in ties:
            parent[tie] = here
            pieces[here] = sorted(pieces[tie] + pieces[here], key=lambda item: item[0])
            pieces[tie] = []
        if target is not None:
            found = seen.get(str(index))
            literal = _literal(found) if found is not None and call_of(stmt) is not None else None
            if literal is not None:
                values[target] = literal
            else:
                values.pop(target, None)
            owner[target] = here
    kept = sorted((p for p in pieces if any(call_of(s) is not None or is_raises(s) for _, s in p)),
                  key=lambda p: p[0][0])
    if len(kept) < 2:
        return [unit]
    return [Unit(unit.source, [s for _, s in p], copy.deepcopy(unit.decorators)) for p in kept]


def _literal(found: Seen) -> ast.expr | None:
    if not found.returned or found.repr is None or len(found.repr) > LONG:
        return None
    try:
        literal_eval(found.repr)
        return parse_source(found.repr, mode="eval").body
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


class _Substitute(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return copy.deepcopy(self.values[node.id])
        return node
