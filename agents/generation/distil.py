"""A unit and what it was seen to do, written as the test a person keeps.

From the observe run (agents/generation/observe.py) each call's result is
known, so the rewrite:

* asserts every call's result: the value when it is short and reads back
  as a literal (``is None``/``is True`` for those, ``pytest.approx`` for a
  float), its length and opening for a long string, ``isinstance`` only for
  a value that cannot be written; a test that can assert nothing says in
  its docstring that it checks only that the call does not raise;
* inlines single-use literals as keyword arguments (the parameter names
  come from the callable's signature, read in the sandbox);
* names what stays after what it feeds or holds (``text``, ``result``,
  ``slugify_text``), never ``var_N``;
* names the test after what happens (agents/generation/test_names.py): ``test_timeparse_returns_int_for_8s``,
  ``test_interpret_as_minutes_raises_key_error``.

Nothing here is trusted until run: agents/distil_step.py keeps a unit's
rewrite only if it passes three times and covers what the unit covered.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import keyword
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from agents.generation.assert_forms import as_length, hash_ordered, tidy_assert
from agents.generation.call_style import by_keyword, raise_match
from agents.generation.checks import fewer_checks, once, worked_on
from agents.generation.crosshair_idioms import constructions_in
from agents.generation.field_checks import field_checks, only_its_type
from agents.generation.generator_checks import (
    LONG,
    asserted_from_value,
    attribute_seen,
    local_names,
    single_local,
)
from agents.generation.machine_paths import names_a_machine_path, relative_tail
from agents.generation.observe import Seen, attribute_checked
from agents.generation.operators import Calls, Operators
from agents.generation.test_names import behaviour, function_of, snake
from agents.generation.test_units import TestFile, Unit, call_of, is_raises
from agents.generation.tidy import is_literal
from engine.python_source import parse_source


@dataclass
class Distilled:
    name: str
    body: list[ast.stmt]
    decorators: list[ast.expr] = field(default_factory=list)
    function: str = ""  # what the test is about, for grouping and for its name
    notes: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)  # a parametrized test's columns
    stem: str = ""  # the name without the case: tests that share it and their shape become one table

    def code(self) -> str:
        return Unit("", self.body, self.decorators).code(self.name, self.arguments)


SHRINK_FAILED = "nothing shorter kept what the test covers"
SHRINK_UNDONE = "with shorter values the tests noticed fewer mutants"  # the mutation gate undid the shrink
SHRINK_LATE = "the result was due before shorter ones were tried"  # agents/distil_step.py ran out of time


def distil_unit(unit: Unit, seen: dict[str, Seen], parts: TestFile, *, long_reason: str = SHRINK_FAILED
                ) -> Distilled:
    """The unit rewritten from what its calls returned (``seen``, keyed as observe.instrument keys them).

    ``long_reason``: why a literal over ``LONG`` characters stays, said in the test's docstring and notes."""
    if unit.plain:
        return Distilled(unit.source, copy.deepcopy(unit.body), copy.deepcopy(unit.decorators),
                         function=function_of(unit.body, parts) or unit.source.removeprefix("test_"))
    body = copy.deepcopy(unit.body)
    values = {i: seen[str(i)] for i, s in enumerate(body) if call_of(s) is not None and str(i) in seen}
    out: list[ast.stmt] = []
    checks: set[str] = set()
    bound: dict[str, Seen] = {}  # names given here to objects whose fields are checked
    ordered = hash_ordered(body)
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Assert):
            subject = single_local(stmt, body)
            if subject is not None and asserted_from_value(subject, body, values):
                continue  # asserted again below, from the value it was seen to have
            again = _attribute_again(stmt, i, seen, parts, ordered)
            if again is not None:  # the attribute checked by the value it held in this unit's own run
                for node in again:
                    if ast.unparse(node) not in checks:
                        checks.add(ast.unparse(node))
                        out.append(node)
                continue
            text = ast.unparse(stmt)
            if text in checks:
                continue
            checks.add(text)
            out.append(as_length(stmt) if ordered else tidy_assert(stmt))
            continue
        call = call_of(stmt)
        info = values.get(i)
        if call is not None and info is not None and info.params:
            by_keyword(call, info.params)
        if is_raises(stmt):
            raise_match(stmt, seen.get(str(i)), parts)
            for j, inner in enumerate(stmt.body):
                inner_call = call_of(inner)
                inner_info = seen.get(f"{i}.{j}")
                if inner_call is not None and inner_info is not None and inner_info.params:
                    by_keyword(inner_call, inner_info.params)
                if isinstance(inner, ast.Assign):  # nothing reads it: the call raises
                    stmt.body[j] = ast.Expr(inner.value)
            out.append(stmt)
            continue
        out.append(stmt)
        if info is None or not info.returned:
            continue
        if isinstance(stmt, ast.Assign):
            name = stmt.targets[0].id
            if _used_after(name, body, i) and info.repr is None:
                continue  # an object the next calls work on: they are the test
            check = _check(ast.Name(name, ast.Load()), info, parts, ordered=ordered)
            if info.fields and only_its_type(check):  # what the object stored says more than its type
                check = field_checks(ast.Name(name, ast.Load()), info)
        else:
            if info.repr == "None" and not _is_module_call(call, parts):
                continue  # a method called for its effect
            check = _check(copy.deepcopy(call), info, parts, ordered=ordered)
            if info.fields and only_its_type(check) and isinstance(stmt, ast.Expr):
                # Bound, and its fields checked: named for its class below (``email``), as a search's object is.
                bound[f"var_made_{i}"] = info
                out[-1] = ast.Assign([ast.Name(f"var_made_{i}", ast.Store())], stmt.value, lineno=0)
                check = field_checks(ast.Name(f"var_made_{i}", ast.Load()), info)
            elif check is not None:
                out.pop()  # the call moves into its assertion
        for node in check or []:
            if ast.unparse(node) not in checks:
                checks.add(ast.unparse(node))
                out.append(node)
    out = once(_unbind_unused(_inline(fewer_checks(out))))
    out = [Operators().visit(stmt) if isinstance(stmt, ast.Assert) else stmt for stmt in out]
    out = constructions_in([Calls().visit(stmt) for stmt in out])
    out = _rename(out, values, body, bound)
    function, outcome, case = behaviour(out, values, body, parts)
    notes = [f"a literal of {n} characters stays: {long_reason}" for n in _long_literals(out)]
    docstring: list[ast.stmt] = []
    if notes:
        longest = max(_long_literals(out))
        why = ("no shorter one reached the same lines and outcome" if long_reason == SHRINK_FAILED
               else long_reason)
        docstring = [ast.Expr(ast.Constant(f"Keeps a {longest}-character input: {why}."))]
    if not any(isinstance(s, ast.Assert) or is_raises(s) for s in out):
        docstring = [ast.Expr(ast.Constant(
            f"Checks only that {function or 'the call'} does not raise: its result cannot be written as a value."))]
        outcome = "does_not_raise"
    stem = "_".join(p for p in ("test", function or "module", outcome) if p)
    name = f"{stem}_for_{case}" if case else stem
    return Distilled(name, docstring + out, copy.deepcopy(unit.decorators), function=function, notes=notes,
                     stem=stem)


def _attribute_again(stmt: ast.Assert, index: int, seen: dict[str, Seen], parts: TestFile,
                     ordered: bool) -> list[ast.stmt] | None:
    """``assert var.attr == <what it held in this run>``: after a shrink the generator's own literal (the
    long input it stored, or joined) no longer is what the attribute holds. None: keep the check as written."""
    info = attribute_seen(stmt, index, seen)
    subject = attribute_checked(stmt)
    if info is None or subject is None:
        return None
    return _check(copy.deepcopy(subject), info, parts, ordered=ordered)


def _used_after(name: str, body: list[ast.stmt], index: int) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for stmt in body[index + 1:] if not isinstance(stmt, ast.Assert) for n in ast.walk(stmt))


def _is_module_call(call: ast.Call, parts: TestFile) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id in parts.aliases
    return isinstance(func, ast.Name) and func.id in parts.imported


def _check(subject: ast.expr, info: Seen, parts: TestFile, *, ordered: bool = False) -> list[ast.stmt] | None:
    """Assertions on one call's result, from what it was seen to return; ``ordered``: the unit is hash-ordered
    (``hash_ordered``), so a text, list or tuple result is checked by its length."""
    if ordered and info.type in ("str", "bytes", "list", "tuple") and info.length is not None and info.length > 1:
        length = ast.Call(ast.Name("len", ast.Load()), [copy.deepcopy(subject)], [])
        return [ast.Assert(ast.Compare(length, [ast.Eq()], [ast.Constant(info.length)]))]
    if any(names_a_machine_path(text, parts.machine_paths) for text in (info.repr, info.prefix) if text):
        # Where the repository sits here: what follows its path, else the type (machine_paths.py).
        try:
            value = info.value()
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        tail = relative_tail(value, parts.machine_paths) if isinstance(value, str) else None
        if tail is not None:
            ends = ast.Call(ast.Attribute(subject, "endswith", ast.Load()), [ast.Constant(tail)], [])
            return [ast.Assert(ends)]
        kind = _type_expr(info, parts)
        return None if kind is None else [ast.Assert(ast.Call(ast.Name("isinstance", ast.Load()), [subject, kind], []))]
    if info.repr is not None:
        value = info.value()
        if value is None or isinstance(value, bool):
            return [ast.Assert(ast.Compare(subject, [ast.Is()], [ast.Constant(value)]))]
        if isinstance(value, float):
            if math.isinf(value):
                return [ast.Assert(ast.Compare(subject, [ast.Eq()], [parse_source(info.repr, mode="eval").body]))]
            # A short float is a result a person would write, checked closely; a long one is computed or measured
            # (a timer's 0.0029403320004348643 varies run to run): four figures, within 1 % or 0.01 (Pynguin's own).
            loose = len(repr(value)) > 8
            tolerance = [ast.keyword("rel", ast.Constant(0.01)), ast.keyword("abs", ast.Constant(0.01))] if loose else []
            approx = ast.Call(ast.Attribute(ast.Name("pytest", ast.Load()), "approx", ast.Load()),
                              [ast.Constant(float(f"{value:.4g}") if loose else value)], tolerance)
            return [ast.Assert(ast.Compare(subject, [ast.Eq()], [approx]))]
        if len(info.repr) <= LONG:
            return [ast.Assert(ast.Compare(subject, [ast.Eq()], [parse_source(info.repr, mode="eval").body]))]
    if info.made is not None and (kind := _type_expr(info, parts)) is not None:
        # An object its own repr makes again, equal (semver's ``Version(major=2, minor=0, ...)``), through the
        # file's reference to its class: what a reviewer writes, where ``isinstance`` said little.
        made = parse_source(info.made, mode="eval").body
        assert isinstance(made, ast.Call)
        made.func = kind
        if ast.dump(made) != ast.dump(subject):  # ``BidictBase({'a': 1}) == BidictBase({'a': 1})`` says nothing
            return [ast.Assert(ast.Compare(subject, [ast.Eq()], [made]))]
    checks: list[ast.stmt] = []
    if info.length is not None and info.type in ("str", "bytes", "list", "tuple", "dict", "set"):
        length = ast.Call(ast.Name("len", ast.Load()), [copy.deepcopy(subject)], [])
        checks.append(ast.Assert(ast.Compare(length, [ast.Eq()], [ast.Constant(info.length)])))
        if info.prefix is not None:
            starts = ast.Call(ast.Attribute(copy.deepcopy(subject), "startswith", ast.Load()),
                              [parse_source(info.prefix, mode="eval").body], [])
            checks.append(ast.Assert(starts))
        return checks
    kind = _type_expr(info, parts)
    if kind is None or isinstance(subject, ast.Call) and ast.dump(subject.func) == ast.dump(kind):
        return None  # a call of the class itself is of that class
    return [ast.Assert(ast.Call(ast.Name("isinstance", ast.Load()), [subject, kind], []))]


@functools.lru_cache(maxsize=8)
def _classes_of(module_source: str) -> frozenset[str]:
    """The classes a module defines at its top level, by their ``class`` lines (once per module, not per check)."""
    return frozenset(re.findall(r"^class (\w+)", module_source, re.MULTILINE))


def _type_expr(info: Seen, parts: TestFile) -> ast.expr | None:
    if not info.type.isidentifier():
        return None
    if info.module == "builtins":
        # Only names Python binds: NoneType, NotImplementedType or function are builtins' types, not names.
        return ast.Name(info.type, ast.Load()) if isinstance(getattr(builtins, info.type, None), type) else None
    # A package may give its classes its own name as their module (bidict's ``BidictBase.__module__`` is
    # ``'bidict'``): a class the module under test defines is reached through the file's binding of that module.
    defined = info.type in _classes_of(parts.module_source)
    texts = [ast.unparse(node) for node in parts.others + parts.imports] if parts.aliases else []
    for alias in sorted(parts.aliases):
        for text in texts:
            if (f"'{info.module}'" in text or f" {info.module} as {alias}" in text
                    or defined and (f"'{info.module}." in text or f" {info.module}." in text)):
                return ast.Attribute(ast.Name(alias, ast.Load()), info.type, ast.Load())
    for name, module in parts.imported.items():
        if name == info.type and module == info.module:
            return ast.Name(name, ast.Load())
        full = f"{module}.{name}"  # ``from bidict import _base``: ``_base.BidictBase``
        if full == info.module or defined and full.startswith(f"{info.module}."):
            return ast.Attribute(ast.Name(name, ast.Load()), info.type, ast.Load())
    return None


def _uses(name: str, nodes: list[ast.stmt]) -> int:
    return sum(1 for s in nodes for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == name
               and isinstance(n.ctx, ast.Load))


def _inline(body: list[ast.stmt]) -> list[ast.stmt]:
    """Single-use literals and results go where they are used."""
    changed = True
    while changed:
        changed = False
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)):
                continue
            name = stmt.targets[0].id
            rest = body[i + 1:]
            if _uses(name, rest) != 1:
                if _uses(name, rest) == 0 and _plain_value(stmt.value, body):
                    del body[i]
                    changed = True
                    break
                continue
            literal = _plain_value(stmt.value, body)
            if literal and len(ast.unparse(stmt.value)) > LONG:
                continue  # a long value keeps its name, and the shrink its chance
            user = next(j for j, s in enumerate(rest) if _uses(name, [s]))
            if not literal:
                # A result inlines only into the assertion that follows it directly, as ``assert f(x) == v``.
                # An object later calls work on keeps its name: ``Version(...).bump_minor().to_dict()`` in one line
                # reads worse than ``version = ...`` and the call on it.
                if user != 0 or not isinstance(rest[0], ast.Assert) or worked_on(name, rest):
                    continue
            _Replace(name, stmt.value).visit(rest[user])
            del body[i]
            changed = True
            break
    return body


def _plain_value(node: ast.expr, body: list[ast.stmt]) -> bool:
    """A literal, a builtin named bare (Pynguin passes ``repr`` as a value), or a name of an imported module
    (``result_2 = util.combine_docstrings`` then ``result(func=result_2)``, in docstring_parser's kept tests):
    written where it is used."""
    if isinstance(node, ast.Name):
        return node.id in vars(builtins) and node.id not in local_names(body)
    if isinstance(node, ast.Attribute):
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id not in local_names(body) and root.id not in vars(builtins)
    return is_literal(node)


def _unbind_unused(body: list[ast.stmt]) -> list[ast.stmt]:
    """``x = f()`` that nothing reads and nothing asserts is the call alone (a name nobody reads is noise)."""
    return [ast.Expr(s.value) if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            and isinstance(s.value, ast.Call) and not _uses(s.targets[0].id, body[i + 1:]) else s
            for i, s in enumerate(body)]


class _Replace(ast.NodeTransformer):
    def __init__(self, name: str, value: ast.expr) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return copy.deepcopy(self.value) if node.id == self.name and isinstance(node.ctx, ast.Load) else node


def _rename(body: list[ast.stmt], values: dict[int, Seen], original: list[ast.stmt],
            bound: dict[str, Seen]) -> list[ast.stmt]:
    """Every name left says what it holds or feeds; no ``var_N``, ``str_0`` or ``_r0``. ``bound``: names
    distillation gave objects, with what they were seen to be."""
    wanted: dict[str, str] = {}
    for stmt in body:
        if not isinstance(stmt, ast.Assign):
            continue
        old = stmt.targets[0].id
        if _plain_value(stmt.value, body):
            wanted[old] = _fed_parameter(old, body) or "value"
        else:
            seen = bound.get(old) or next((values[i] for i, s in enumerate(original) if isinstance(s, ast.Assign)
                                           and s.targets[0].id == old and i in values), None)
            kind = seen.type if seen is not None and seen.repr is None and seen.type.isidentifier() else ""
            wanted[old] = snake(kind) if kind and kind[0].isupper() else "result"
    taken: Counter[str] = Counter()
    final: dict[str, str] = {}
    # A class ``And`` named its object ``and`` (marshmallow.validate: a SyntaxError); a name the test reads
    # (the module, ``pytest``) must not be shadowed either, nor a builtin (``range = validate.Range(...)``).
    read = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name)} - set(wanted)
    for old, new in wanted.items():
        if keyword.iskeyword(new) or keyword.issoftkeyword(new) or new in read or new in vars(builtins):
            new = f"{new}_"
        taken[new] += 1
        final[old] = new if taken[new] == 1 else f"{new}_{taken[new]}"
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and node.id in final:
                node.id = final[node.id]
    return body


def _fed_parameter(name: str, body: list[ast.stmt]) -> str | None:
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if isinstance(kw.value, ast.Name) and kw.value.id == name and kw.arg:
                        return kw.arg
    return None


def _long_literals(body: list[ast.stmt]) -> list[int]:
    """Lengths of the long inputs: an expected value is what the code gave, not an input the shrink could cut
    (docstring_parser: "Keeps a 136-character input" stood over ``titles_re == re.compile('<136 characters>')``
    of a test whose only input was ``title_colon=None``)."""
    return [len(node.value) for stmt in body for node in ast.walk(_input_side(stmt))
            if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and len(node.value) > LONG]


def _input_side(stmt: ast.stmt) -> ast.AST:
    """An assertion's subject (``f(x)`` of ``assert f(x) == v``); any other statement whole."""
    if isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare):
        return stmt.test.left
    return stmt
