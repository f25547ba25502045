"""One check per value in a distilled test (agents/generation/distil.py writes them).

Search asserts everything it sees: every field of a new object after every
call, ``isinstance`` beside an equality, the object compared whole before
the calls that work on it. A reader wants each fact checked once, where it
matters: at the end of the chain.
"""

from __future__ import annotations

import ast

from agents.generation.test_units import is_raises


def fewer_checks(body: list[ast.stmt]) -> list[ast.stmt]:
    """One check per value.

    ``isinstance(v, T)`` goes where ``v == <value>`` stands too; and an
    object that later calls work on is not compared whole before them when
    the test ends in a check of its own: every semver test began by
    asserting what ``Version(major=1)`` is, the same check repeated in each.
    """
    def equal_to_value(test: ast.expr) -> str | None:
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and len(test.ops) == 1
                and isinstance(test.ops[0], ast.Eq)):
            return test.left.id
        return None

    compared = {name for s in body if isinstance(s, ast.Assert) and (name := equal_to_value(s.test))}
    ends_checked = bool(body) and (isinstance(body[-1], ast.Assert) or is_raises(body[-1]))
    made = _made_by_class(body)
    # ``email = validate.Email()`` then ``isinstance(email, validate.Email)``: true by construction, and said
    # where a check of what it stored stands beside it (Pynguin writes one after every constructor).
    implied = [s for s in body if isinstance(s, ast.Assert) and (t := _type_checked(s.test)) and made.get(t[0]) == t[1]]
    others = any(isinstance(s, ast.Assert) or is_raises(s) for s in body if not any(s is i for i in implied))
    out: list[ast.stmt] = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Assert):
            if others and any(stmt is s for s in implied):
                continue
            test = stmt.test
            if (isinstance(test, ast.Call) and ast.unparse(test.func) == "isinstance" and test.args
                    and isinstance(test.args[0], ast.Name) and test.args[0].id in compared):
                continue
            name = _state_of(test)
            if name and ends_checked and i < len(body) - 1 and worked_on(name, body[i + 1:]):
                continue
        out.append(stmt)
    return out


def _made_by_class(body: list[ast.stmt]) -> dict[str, str]:
    """Locals bound to a call of a class (``email = validate.Email(...)``), with the class's name."""
    out: dict[str, str] = {}
    for stmt in body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call)):
            name = ast.unparse(stmt.value.func).rsplit(".", 1)[-1]
            if name[:1].isupper():
                out[stmt.targets[0].id] = name
    return out


def _type_checked(test: ast.expr) -> tuple[str, str] | None:
    """(local, class name) of ``isinstance(v, m.T)`` or ``type(v).__qualname__ == 'T'``."""
    if (isinstance(test, ast.Call) and ast.unparse(test.func) == "isinstance" and len(test.args) == 2
            and isinstance(test.args[0], ast.Name)):
        return test.args[0].id, ast.unparse(test.args[1]).rsplit(".", 1)[-1]
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.left, ast.Attribute) and test.left.attr == "__qualname__"
            and isinstance(test.left.value, ast.Call) and ast.unparse(test.left.value.func) == "type"
            and len(test.left.value.args) == 1 and isinstance(test.left.value.args[0], ast.Name)
            and isinstance(test.comparators[0], ast.Constant) and isinstance(test.comparators[0].value, str)):
        return test.left.value.args[0].id, test.comparators[0].value
    return None


def _state_of(test: ast.expr) -> str | None:
    """The local whose whole state an assertion checks before later calls change it: ``v == Version(...)``,
    ``timer.name is None`` (Pynguin asserts every field after every call), ``isinstance(timer, Timer)``."""
    if isinstance(test, ast.Call) and ast.unparse(test.func) == "isinstance" and test.args:
        subject = test.args[0]
        return subject.id if isinstance(subject, ast.Name) else None
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left = test.left
    if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name):
        return left.value.id
    if isinstance(left, ast.Name) and isinstance(test.ops[0], ast.Eq) and isinstance(test.comparators[0], ast.Call):
        return left.id
    return None


def once(body: list[ast.stmt]) -> list[ast.stmt]:
    """An assertion that reads exactly as an earlier one (inlining can make two alike) is written once."""
    seen: set[str] = set()
    out = []
    for stmt in body:
        text = ast.unparse(stmt)
        if isinstance(stmt, ast.Assert) and text in seen:
            continue
        seen.add(text)
        out.append(stmt)
    return out


def worked_on(name: str, body: list[ast.stmt]) -> bool:
    """``name.method(...)`` somewhere in ``body``."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
               and n.func.value.id == name for s in body for n in ast.walk(s))
