"""Units in *observe form*: run once in the sandbox, they say what each call returned.

Distillation writes assertions from values, names from parameters and
keywords from signatures, and none of that can be read from the source:
the module under test is hostile code and is never imported here. So each
unit is run as a test without its assertions, every call wrapped so that
it records its callable's parameters (``inspect.signature``) and its
result: the ``repr`` when that reads back as the same literal, else the
type. The records travel in the JUnit report as a property
(engine/results.py ``OBSERVED_PROPERTY``) and come back as text that is
parsed here as untrusted input: JSON only, reprs read back with
``ast.literal_eval`` and never evaluated.
"""

from __future__ import annotations

import ast
import copy
import json
import keyword
from dataclasses import dataclass, field
from typing import Any

from agents.generation.test_units import TestFile, Unit, is_raises
from engine.python_source import literal_eval, parse_source

# Statements carry a key: "3" for the fourth statement, "3.0" for the first one inside a ``with``.
_HELPERS = '''
import ast as _aw_ast
import inspect as _aw_inspect
import json as _aw_json
import sys as _aw_sys

import pytest as _aw_pytest

_AW_SEEN = []


def _aw_value(key, value):
    # Untraced: what the record runs (the value's repr, len, eq) is not what the test runs. Counted, a unit
    # making a Range(error=URL()) "covered" both classes' __repr__, the slice kept it for those lines, and the
    # distilled file, which never prints them, lost them: marshmallow's went out as generated for it.
    tracer = _aw_sys.gettrace()
    _aw_sys.settrace(None)
    try:
        _aw_record(key, value)
    finally:
        _aw_sys.settrace(tracer)
    return value


def _aw_record(key, value):
    entry = {"k": key, "type": type(value).__qualname__, "module": type(value).__module__}
    try:
        entry["len"] = len(value)
    except Exception:
        pass
    text = ""
    try:
        text = repr(value)
        if len(text) <= 400:
            back = _aw_ast.literal_eval(text)
            if type(back) is type(value) and back == value:
                entry["repr"] = text
        elif isinstance(value, (str, bytes)):
            entry["prefix"] = repr(value[:40])
    except Exception:
        pass
    try:
        cls = type(value)
        if ("repr" not in entry and len(text) <= 400 and text.startswith(cls.__name__ + "(")
                and cls.__eq__ is not object.__eq__):
            back = eval(text, {"__builtins__": {}, cls.__name__: cls})
            if type(back) is cls and back == value:
                entry["made"] = text
    except Exception:
        pass
    if "repr" not in entry and "made" not in entry and type(value).__module__ != "builtins":
        _aw_fields(entry, value)
    _AW_SEEN.append(entry)


def _aw_fields(entry, value):
    # What a constructor stored, read as Pynguin's checks read it: public fields whose repr reads back as the
    # same literal (a float is left out: computed or measured, it varies run to run).
    try:
        items = list(vars(value).items())[:40]
    except Exception:
        return
    fields = {}
    for name, item in items:
        if name.startswith("_") or isinstance(item, float) or len(fields) >= 4:
            continue
        try:
            text = repr(item)
            if len(text) <= 80:
                back = _aw_ast.literal_eval(text)
                if type(back) is type(item) and back == item:
                    fields[name] = text
        except Exception:
            pass
    if fields:
        entry["fields"] = fields


def _aw_params(key, function):
    try:
        params = [[p.name, p.kind.name] for p in _aw_inspect.signature(function).parameters.values()]
    except Exception:
        params = None
    _AW_SEEN.append({"k": key, "params": params})
    return function


def _aw_held(key, value):
    try:
        _AW_SEEN.append({"k": key, "held": bool(value)})
    except Exception:
        _AW_SEEN.append({"k": key, "held": False})


def _aw_raised(key, info):
    try:
        _AW_SEEN.append({"k": key, "message": str(info.value)[:300]})
    except Exception:
        pass


@_aw_pytest.fixture(autouse=True)
def _aw_observe(request):
    del _AW_SEEN[:]
    yield
    request.node.user_properties.append(("aiwebtest_observed", _aw_json.dumps(_AW_SEEN)))
'''


@dataclass
class Seen:
    """What one statement's call did: its parameters, and its result when it returned."""

    params: list[tuple[str, str]] | None = None  # (name, kind) as inspect.Parameter says
    returned: bool = False
    repr: str | None = None  # reads back as the same literal
    type: str = ""
    module: str = ""
    length: int | None = None
    prefix: str | None = None  # the repr of a long string's first 40 characters
    message: str | None = None  # what the exception a ``pytest.raises`` block caught said (``str(exc)``)
    held: bool | None = None  # a generator's assertion: whether it held (None: not an assertion, or not reached)
    # A repr that makes an equal object of the module's class from literals: ``Version(major=2, minor=0)``.
    made: str | None = None
    # An object's public fields that read back as literals, by name (``Email(error='')``: ``error`` holds
    # ``'Not a valid email address.'``): what a test of a constructor checks when the object has no literal form.
    fields: dict[str, str] = field(default_factory=dict)

    def value(self) -> Any:
        return literal_eval(self.repr) if self.repr is not None else None


@dataclass
class Observed:
    passed: bool
    seen: dict[str, Seen] = field(default_factory=dict)


def unit_name(index: int) -> str:
    return f"test_u{index}"


def observe_form(parts: TestFile, units: list[Unit]) -> str:
    """One test per unit, assertions taken out, every statement's call recorded."""
    lines = [ast.unparse(node) for node in parts.imports]
    lines.append(_HELPERS)
    lines += [ast.unparse(node) for node in parts.others]
    for index, unit in enumerate(units):
        body = unit.body if unit.plain else instrument(unit.body)
        lines.append(Unit(unit.source, body, unit.decorators, unit.plain).code(unit_name(index)))
    return "\n\n\n".join(lines) + "\n"


def instrument(body: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for index, stmt in enumerate(body):
        if isinstance(stmt, ast.Assert):
            # Not asserted (a shrunk value may change what it compares), but run: the lines only the generator's
            # own check runs count (bidict's and semver's ``__eq__``, reached by ``assert v == BidictBase(...)``
            # alone; without them the file "lost coverage" and went out as generated, 500-character literals and
            # all).
            # Whether it held is recorded: a shrink that breaks a check distillation keeps as written is refused.
            test = copy.deepcopy(stmt.test)
            if attribute_checked(stmt) is not None:
                # What the attribute held is recorded too: distillation writes the check again from it, so a
                # shrunk input is not held to the generator's literal (agents/generation/distil.py).
                assert isinstance(test, ast.Compare)
                test.left = ast.Call(ast.Name("_aw_value", ast.Load()), [ast.Constant(attribute_key(index)), test.left],
                                     [])
            held = ast.Call(ast.Name("_aw_held", ast.Load()), [ast.Constant(str(index)), test], [])
            failed = ast.Call(ast.Name("_aw_held", ast.Load()), [ast.Constant(str(index)), ast.Constant(False)], [])
            out.append(ast.Try(body=[ast.Expr(held)],
                               handlers=[ast.ExceptHandler(ast.Name("Exception", ast.Load()), None, [ast.Expr(failed)])],
                               orelse=[], finalbody=[]))
            continue
        stmt = copy.deepcopy(stmt)
        if is_raises(stmt):
            assert isinstance(stmt, ast.With)
            stmt.body = [_wrap(s, f"{index}.{j}", value=False) for j, s in enumerate(stmt.body)]
            item = stmt.items[0]
            if item.optional_vars is None:
                item.optional_vars = ast.Name("_aw_caught", ast.Store())
            out.append(stmt)
            if isinstance(item.optional_vars, ast.Name):  # what the exception said (a ``match=`` to come)
                out.append(ast.Expr(ast.Call(ast.Name("_aw_raised", ast.Load()),
                                             [ast.Constant(str(index)), ast.Name(item.optional_vars.id, ast.Load())],
                                             [])))
        else:
            out.append(_wrap(stmt, str(index), value=True))
    return out


def attribute_checked(stmt: ast.stmt) -> ast.expr | None:
    """The subject of a generator's ``assert var.attr == <literal>`` (an attribute, or a chain of them, of a
    name; no call): Pynguin's check of what a constructor stored (``assert var_53.values_text == '<the long
    input, joined>'``). None for any other statement."""
    if not (isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare) and len(stmt.test.ops) == 1
            and isinstance(stmt.test.ops[0], ast.Eq) and isinstance(stmt.test.left, ast.Attribute)):
        return None
    node: ast.expr = stmt.test.left
    while isinstance(node, ast.Attribute):
        node = node.value
    return stmt.test.left if isinstance(node, ast.Name) else None


def attribute_key(index: int) -> str:
    """The record key of what the attribute an assertion checks held (``attribute_checked``)."""
    return f"{index}.attr"


def _wrap(stmt: ast.stmt, key: str, *, value: bool) -> ast.stmt:
    if isinstance(stmt, (ast.Assign, ast.Expr)) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        func = ast.Call(ast.Name("_aw_params", ast.Load()), [ast.Constant(key), call.func], [])
        wrapped: ast.expr = ast.Call(func, call.args, call.keywords)
        if value:
            wrapped = ast.Call(ast.Name("_aw_value", ast.Load()), [ast.Constant(key), wrapped], [])
        stmt.value = wrapped
    return stmt


def read_observations(outcomes: list[dict[str, Any]], count: int) -> list[Observed | None]:
    """Per unit, what its observe-form test recorded; None where it did not run or its record is unreadable."""
    found: list[Observed | None] = [None] * count
    for outcome in outcomes:
        name = str(outcome.get("name", ""))
        if not name.startswith("test_u") or not name[6:].isdigit() or int(name[6:]) >= count:
            continue
        observed = Observed(passed=outcome.get("outcome") == "passed")
        try:
            records = json.loads(outcome.get("observed") or "[]")
        except (json.JSONDecodeError, TypeError):
            records = None
        if not isinstance(records, list):
            found[int(name[6:])] = Observed(passed=False)
            continue
        for record in records:
            _merge(observed.seen, record)
        found[int(name[6:])] = observed
    return found


def _merge(seen: dict[str, Seen], record: Any) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("k"), str):
        return
    entry = seen.setdefault(record["k"], Seen())
    if "held" in record:
        entry.held = record["held"] is True
        return
    if "message" in record:
        if isinstance(record["message"], str):
            entry.message = record["message"][:300]
        return
    if "params" in record:
        params = record["params"]
        if isinstance(params, list) and all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                                            for p in params):
            entry.params = [(p[0], p[1]) for p in params if p[0].isidentifier()]
        return
    entry.returned = True
    entry.type = str(record.get("type", ""))[:100]
    entry.module = str(record.get("module", ""))[:200]
    if isinstance(record.get("len"), int):
        entry.length = record["len"]
    fields = record.get("fields")
    if isinstance(fields, dict) and len(fields) <= 8:
        entry.fields = {k: v for k, v in fields.items() if isinstance(k, str) and k.isidentifier()
                        and not keyword.iskeyword(k) and isinstance(v, str) and len(v) <= 80 and _reads_back(v)}
    made = record.get("made")
    if isinstance(made, str) and len(made) <= 400 and _literal_call_of(made, entry.type):
        entry.made = made
    for key in ("repr", "prefix"):
        text = record.get(key)
        if isinstance(text, str) and len(text) <= 400 and _reads_back(text):
            setattr(entry, key, text)


def _reads_back(text: str) -> bool:
    try:
        literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _literal_call_of(text: str, type_name: str) -> bool:
    """``text`` is ``TypeName(<literals>)`` and nothing else: read back here as input, never evaluated."""
    try:
        call = parse_source(text, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == type_name):
        return False
    try:
        for value in [*call.args, *(k.value for k in call.keywords if k.arg)]:
            literal_eval(ast.unparse(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return all(k.arg for k in call.keywords)
