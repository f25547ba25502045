"""Which of a generator's assertions distillation writes again from the values a unit was seen to have,
and which it keeps as written (agents/generation/distil.py).

A check of a call's result (``assert var_0 == 3``, ``isinstance(var_0, T)``)
is written again from what the call returned; so is a long check of what an
object stored (``assert var_0.values_text == '<800 characters>'``), from
what the attribute held. The rest stay as the generator wrote them, and a
shrunk unit must still satisfy them (agents/generation/shrunk_holds.py).
"""

from __future__ import annotations

import ast

from agents.generation.observe import Seen, attribute_checked, attribute_key
from agents.generation.test_units import call_of

LONG = 80  # characters: a literal longer than this must say why it stays


def local_names(body: list[ast.stmt]) -> set[str]:
    return {s.targets[0].id for s in body if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)}


def single_local(stmt: ast.Assert, body: list[ast.stmt]) -> str | None:
    names = {n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)} & local_names(body)
    if len(names) != 1:
        return None
    name = names.pop()
    test = stmt.test
    # Only checks of the name itself: ``v == x``, ``v is None``, ``isinstance(v, T)``, ``v``, ``not v``.
    subject = test.left if isinstance(test, ast.Compare) else test
    if isinstance(subject, ast.UnaryOp):
        subject = subject.operand
    if isinstance(subject, ast.Call) and ast.unparse(subject.func) == "isinstance" and subject.args:
        subject = subject.args[0]
    return name if isinstance(subject, ast.Name) and subject.id == name else None


def kept_as_written(body: list[ast.stmt], seen: dict[str, Seen]) -> list[int]:
    """The indices of the generator's assertions that distil_unit keeps as written (the rest it writes again
    from the values seen): those a shrunk unit must still satisfy."""
    values = {i: seen[str(i)] for i, s in enumerate(body) if call_of(s) is not None and str(i) in seen}
    out = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Assert):
            subject = single_local(stmt, body)
            if not (subject is not None and asserted_from_value(subject, body, values)) \
                    and not attribute_seen(stmt, i, seen):
                out.append(i)
    return out


def attribute_seen(stmt: ast.Assert, index: int, seen: dict[str, Seen]) -> Seen | None:
    """What the attribute a generator's long ``assert var.attr == <literal over LONG characters>`` checks held,
    when it reads back as a literal: the check is then written from it (agents/generation/distil.py), so the
    input it echoes can be shrunk (marshmallow's ``values_text == 'e, r, r, o, r, ...'``, 800 characters of a
    docstring joined). A short one (``message == 'at most'``) is what the test is about: a shrink must keep it."""
    info = seen.get(attribute_key(index))
    if attribute_checked(stmt) is None or info is None or info.repr is None:
        return None
    assert isinstance(stmt.test, ast.Compare)
    return info if len(ast.unparse(stmt.test.comparators[0])) > LONG else None


def asserted_from_value(name: str, body: list[ast.stmt], values: dict[int, Seen]) -> bool:
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Assign) and stmt.targets[0].id == name and i in values:
            return values[i].repr is not None or values[i].length is not None
    return False
