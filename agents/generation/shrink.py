"""Smaller values for a unit's inputs, one kind and one step at a time, as Hypothesis shrinks.

Search picks its inputs at random and seeds them from the module's own
text: 500-character docstrings as a version's prerelease tag,
``-1388.911`` as a count, ten-element lists where one would do. A person
would write ``''``, ``0`` or ``[1]``. Each kind below offers steps,
smallest first; agents/distil_step.py tries a step on every unit that has
that kind of value at once, in one sandboxed run, and a unit keeps the
first step that still passes and covers what it covered (the outcome is
part of it: a unit under ``pytest.raises`` that stops raising fails).

Only inputs shrink. The generator's own assertions are expectations, not
inputs; where one repeats a shrunk string (Pynguin's
``assert v == Version(prerelease='<the same long text>')``) the cut is
written there too, and the run decides whether it still holds.
"""

from __future__ import annotations

import ast
import copy
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from agents.generation.distil import LONG
from agents.generation.readable_text import STEPS as READABLE_STEPS
from agents.generation.readable_text import has_noisy_text, readable_at
from agents.generation.test_units import Unit
from agents.generation.typical_values import as_expr, plain_for_name

NUMBER_ABOVE = 100  # an int further from 0 than this, or a float with more digits, reads as search's noise
COLLECTION_ABOVE = 3  # elements: a longer list, tuple, set or dict literal is tried shorter


@dataclass(frozen=True)
class Kind:
    """One kind of value: which units have it, and the unit at one step."""

    name: str
    steps: tuple[int, ...]
    has: Callable[[Unit], bool]
    at: Callable[[Unit, int], Unit]


def _inputs(unit: Unit) -> list[ast.stmt]:
    return [s for s in unit.body if not isinstance(s, ast.Assert)]


def _long_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and len(node.value) > LONG


def has_long_text(unit: Unit) -> bool:
    return any(_long_text(n) for s in _inputs(unit) for n in ast.walk(s))


ONE_OF_EACH = -1  # a text step: the first character of each kind the text has (flutils' 26,584 characters
DISTINCT = -2  # needed one non-ASCII star and one emoji from deep inside); then each character once


def _kind(c: str | int) -> tuple[object, ...]:
    ch = chr(c) if isinstance(c, int) else c
    return unicodedata.category(ch), len(hex(ord(ch))) - 2  # the class, and how wide its code is


def _smaller(value: str | bytes, step: int) -> str | bytes:
    if step >= 0:
        return value[:step]
    items = list(value)
    keep: dict[object, str | int] = {}
    for item in items:
        keep.setdefault(_kind(item) if step == ONE_OF_EACH else item, item)
    chosen = list(keep.values())
    return bytes(chosen) if isinstance(value, bytes) else "".join(chosen)  # type: ignore[arg-type]


def text_at(unit: Unit, step: int) -> Unit:
    """Every long string or bytes input made smaller (its first ``step`` characters, or one of each kind, or each
    character once); where the generator's assertions repeat an input, they repeat the cut."""
    body = copy.deepcopy(unit.body)
    cuts: dict[str | bytes, str | bytes] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            continue
        for node in ast.walk(stmt):
            if _long_text(node):
                assert isinstance(node, ast.Constant)
                cuts[node.value] = _smaller(node.value, step)
                node.value = cuts[node.value]
    longest_first = sorted(cuts, key=len, reverse=True)
    for stmt in body:
        if not isinstance(stmt, ast.Assert):
            continue
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, (str, bytes)):
                continue
            for old in longest_first:
                if type(old) is type(node.value) and node.value.startswith(old):  # type: ignore[arg-type]
                    node.value = cuts[old] + node.value[len(old):]  # type: ignore[operator]
                    break
    return Unit(unit.source, body, unit.decorators, unit.plain)


def _noisy_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > NUMBER_ABOVE
    if isinstance(value, float):
        return math.isfinite(value) and (
            abs(value) > NUMBER_ABOVE or value != round(value, 1))
    return False


ONE_FIGURE = -1001  # number steps that keep each number's sign and size: 2150.25 -> 2000.0, -230.37 -> -200.0
WHOLE = -1002  # then to the nearest whole number: -230.37 -> -230.0 (a float stays a float)


def _rounded(value: float, step: int) -> float:
    """``value`` at a rounding step; each number on its own, so ``clamp(value=-230.37, low=2150.25, high=...)``
    keeps which is larger where 0, 1, -1, 10 or 100 for all of them at once changed the outcome."""
    if step == WHOLE or value == 0:
        whole = round(value)
    else:
        whole = round(value, -int(math.floor(math.log10(abs(value)))))
    return float(whole) if isinstance(value, float) else int(whole)


class _Numbers(ast.NodeTransformer):
    """Noisy numbers (``-1388.911``, ``2741``) found or replaced, a minus sign taken as part of the number."""

    def __init__(self, step: int | None, changes: dict[float, float] | None = None) -> None:
        self.step, self.found = step, 0
        # value -> what it became: an assertion that repeats an input (clamp's result is its ``low``) repeats
        # the new value too, as with text; None while finding, and for the inputs themselves.
        self.changes: dict[float, float] = {} if changes is None else changes
        self.replacing = changes is not None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
                and _noisy_number(node.operand.value)):
            return self._number(node, -node.operand.value)  # type: ignore[operator]
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return self._number(node, node.value) if _noisy_number(node.value) else node

    def _number(self, node: ast.expr, value: float) -> ast.expr:
        self.found += 1
        if self.step is None:
            return node
        if self.replacing:  # an expectation: only a value that was an input changes, and as that input did
            if value not in self.changes:
                return node
            new: float = self.changes[value]
        elif self.step in (ONE_FIGURE, WHOLE):
            new = _rounded(value, self.step)
        else:
            new = float(self.step) if isinstance(value, float) else self.step
        self.changes.setdefault(value, new)
        shown: ast.expr = ast.Constant(abs(new)) if new < 0 else ast.Constant(new)
        if new < 0:
            shown = ast.UnaryOp(ast.USub(), shown)
        return ast.copy_location(shown, node)


def has_noisy_number(unit: Unit) -> bool:
    finder = _Numbers(None)
    for stmt in copy.deepcopy(_inputs(unit)):
        finder.visit(stmt)
    return finder.found > 0


def number_at(unit: Unit, step: int) -> Unit:
    """Every noisy number input replaced by ``step`` (as a float where it was one), or rounded on its own
    (``ONE_FIGURE``, ``WHOLE``)."""
    inputs = _Numbers(step)
    body = [s if isinstance(s, ast.Assert) else ast.fix_missing_locations(inputs.visit(copy.deepcopy(s)))
            for s in unit.body]
    # A float input the code truncates (semver's ``Version(major=505.74)``) is repeated by the generator's own
    # assertion as its whole part (``== Version(major=505, ...)``): that changes with it.
    repeated = dict(inputs.changes)
    for old, new in inputs.changes.items():
        if isinstance(old, float) and math.isfinite(old) and not old.is_integer():
            repeated.setdefault(int(old), int(new))
    expectations = _Numbers(step, repeated)
    body = [ast.fix_missing_locations(expectations.visit(copy.deepcopy(s))) if isinstance(s, ast.Assert) else s
            for s in body]
    return Unit(unit.source, body, unit.decorators, unit.plain)


def _long_collection(node: ast.AST) -> bool:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return len(node.elts) > COLLECTION_ABOVE and not any(isinstance(e, ast.Starred) for e in node.elts)
    if isinstance(node, ast.Dict):
        return len(node.keys) > COLLECTION_ABOVE and None not in node.keys
    return False


def has_long_collection(unit: Unit) -> bool:
    return any(_long_collection(n) for s in _inputs(unit) for n in ast.walk(s))


def collection_at(unit: Unit, size: int) -> Unit:
    """Every long collection input cut to its first ``size`` elements (a set is never left as ``{}``)."""
    body = copy.deepcopy(unit.body)
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            continue
        for node in ast.walk(stmt):
            if not _long_collection(node):
                continue
            if isinstance(node, ast.Dict):
                node.keys, node.values = node.keys[:size], node.values[:size]
            elif isinstance(node, ast.Set):
                node.elts = node.elts[:max(size, 1)]
            else:
                assert isinstance(node, (ast.List, ast.Tuple))
                node.elts = node.elts[:size]
    return Unit(unit.source, body, unit.decorators, unit.plain)


_ODD_CALLS = ("complex", "bytearray", "frozenset", "object", "memoryview")


def _odd(node: ast.expr) -> bool:
    """A value of a kind no caller of a text, number or flag parameter writes: search's unprintable bytes,
    ``complex(...)``, ``object()``."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bytes):
            return not all(32 <= b < 127 for b in node.value)
        return isinstance(node.value, complex)
    return isinstance(node, ast.Call) and ast.unparse(node.func) in _ODD_CALLS


def has_odd_keyword(unit: Unit) -> bool:
    return any(isinstance(n, ast.Call) and any(k.arg and _odd(k.value) for k in n.keywords)
               for s in _inputs(unit) for n in ast.walk(s))


def without_odd_keywords(unit: Unit, _step: int) -> Unit:
    """Every keyword argument with an odd value left out, its parameter to its default: isodate's kept
    ``parse_duration(datestring='+', as_timedelta_if_possible=b'\\xdb\\x8b=...')`` raised the same error without it.
    A required one left out raises another error (or none), and the run refuses the step."""
    body = copy.deepcopy(unit.body)
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                node.keywords = [k for k in node.keywords if not (k.arg and _odd(k.value))]
    return Unit(unit.source, body, unit.decorators, unit.plain)


_EMPTY = {str: "", int: 0, float: 0.0, bool: False, list: []}
_TYPE_NAMES = frozenset({"complex", "str", "int", "float", "bool", "bytes", "list", "dict", "set", "tuple",
                         "frozenset", "object", "type", "bytearray"})


def _retyped(keyword: ast.keyword, step: int) -> ast.expr | None:
    """The keyword's value as the type its name asks for, when search passed another (``word=False``):
    step 0 that type's empty value, step 1 the name's typical value; None when it already fits or the name
    suggests nothing. ``None`` stays (an optional parameter's own default)."""
    if not keyword.arg:
        return None
    if isinstance(keyword.value, ast.Name) and keyword.value.id in _TYPE_NAMES:
        have: object = type  # a class where a value goes: python-slugify's kept ``allow_unicode=complex``
    elif isinstance(keyword.value, ast.Constant) and keyword.value.value is not None:
        have = keyword.value.value
    else:
        return None
    wanted = plain_for_name(keyword.arg)
    if wanted is None or type(have) is type(wanted) or (
            isinstance(wanted, float) and type(have) is int) or isinstance(have, (complex, bytes)):
        return None
    return as_expr(_EMPTY[type(wanted)] if step == 0 else wanted)


def has_mistyped_keyword(unit: Unit) -> bool:
    return any(isinstance(n, ast.Call) and any(_retyped(k, 0) is not None for k in n.keywords)
               for s in _inputs(unit) for n in ast.walk(s))


def with_typed_keywords(unit: Unit, step: int) -> Unit:
    """Every keyword search gave a value of another type than its name asks for, given that type's value
    instead: inflection's kept ``pluralize(word=False) is False`` reaches the same lines as
    ``pluralize(word='')``, which a reader understands. The run refuses a step that covers less or ends
    another way."""
    body = copy.deepcopy(unit.body)
    texts: dict[str, object] = {}  # a text given in place, where the generator's assertion repeats it
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                for k in node.keywords:
                    value = _retyped(k, step)
                    if value is not None:
                        if (isinstance(k.value, ast.Constant) and isinstance(k.value.value, str) and k.value.value
                                and isinstance(value, ast.Constant)):  # a list in its place is not repeated
                            texts[k.value.value] = value.value
                        k.value = value
    # Where Pynguin's own ``assert v.max_inclusive == '<the text>'`` repeats a replaced text, it repeats the new
    # value (marshmallow's ``Range(max_inclusive='<275 characters>')``); a flag or number is too common to follow.
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            for node in ast.walk(stmt):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in texts:
                    node.value = texts[node.value]
    return Unit(unit.source, body, unit.decorators, unit.plain)


KINDS = (
    # First: a value that goes need not be made smaller.
    Kind("odd keyword", (0,), has_odd_keyword, without_odd_keywords),
    Kind("mistyped keyword", (0, 1), has_mistyped_keyword, with_typed_keywords),
    Kind("text", (0, 8, ONE_OF_EACH, 40, DISTINCT, LONG, 2 * LONG), has_long_text, text_at),
    # After the cut: a long text cut to 8 characters of search's noise is tried as words too.
    Kind("readable text", READABLE_STEPS, has_noisy_text, readable_at),
    Kind("number", (0, 1, -1, 10, 100, ONE_FIGURE, WHOLE), has_noisy_number, number_at),
    Kind("collection", (0, 1, COLLECTION_ABOVE), has_long_collection, collection_at),
)
