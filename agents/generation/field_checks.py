"""Checks of what a constructor stored, for an object with no literal form (agents/generation/distil.py).

CrossHair's constructor tests and search's objects of a module's own class
end as "Checks only that ... does not raise" when the object has no repr
that reads back: marshmallow's ``validate.Email(error="")``. What its
public fields held in the observed run (agents/generation/observe.py
``Seen.fields``) is what a reviewer checks instead: ``email.error ==
"Not a valid email address."`` says that an empty message falls back to the
default, and a mutant of that default fails it.
"""

from __future__ import annotations

import ast
import copy

from agents.generation.observe import Seen
from engine.python_source import parse_source


def field_checks(subject: ast.expr, info: Seen) -> list[ast.stmt]:
    """``assert subject.<field> == <value>`` for each field ``info`` recorded (``is`` for None and flags)."""
    out: list[ast.stmt] = []
    for name, text in info.fields.items():
        value = parse_source(text, mode="eval").body
        single = isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, bool))
        out.append(ast.Assert(ast.Compare(ast.Attribute(copy.deepcopy(subject), name, ast.Load()),
                                          [ast.Is() if single else ast.Eq()], [value])))
    return out


def only_its_type(check: list[ast.stmt] | None) -> bool:
    """No check, or only ``isinstance``: what the fields say more than."""
    return not check or all(isinstance(s, ast.Assert) and isinstance(s.test, ast.Call)
                            and ast.unparse(s.test.func) == "isinstance" for s in check)
