"""A text the module's own regular expression accepts: the typical input of a parser that matches its argument.

isodate's ``parse_duration(datestring)`` gives no hint in its parameter's
name or annotation, but matches it against ``ISO8601_PERIOD_REGEX``; the
pattern itself says what a person would pass: ``+P1Y1M1W1DT1H1M1S``. Read
from the pattern's parse tree, never by matching anything: the pattern is
the repository's (input), and matching a text against a hostile one could
backtrack for ever. The sandbox run that observes the typical call tells
whether the text is accepted; one that raises is dropped there.
"""

from __future__ import annotations

import re

try:
    from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python 3.11+
except ImportError:  # pragma: no cover - Python before 3.11
    import sre_parse  # type: ignore[no-redef]

_MAX_PATTERN = 2_000
_MAX_EXAMPLE = 120
# A character a person would type for each class: a digit one, not zero (``1Y``, not ``0Y``).
_CATEGORY = {"CATEGORY_DIGIT": "1", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_DIGIT": "a",
             "CATEGORY_NOT_WORD": "-", "CATEGORY_NOT_SPACE": "a", "CATEGORY_LINEBREAK": "\n",
             "CATEGORY_NOT_LINEBREAK": "a"}
_TRIES = "a1-A _.x"
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


class _Unsupported(Exception):
    pass


def example_for(pattern: str, flags: int = 0) -> str | None:
    """One printable text the pattern accepts, with each optional part taken once (nested optional parts not),
    or None when the pattern holds what this reader does not follow."""
    found = examples_for(pattern, flags)
    return found[0] if found else None


def examples_for(pattern: str, flags: int = 0) -> list[str]:
    """The example above first, then one per optional part of the pattern's outer sequence with only that part
    taken (isodate's ``P1Y``, ``P1M``, ``PT1H1M1S``): each a row that runs another way through the parser.
    Some may not match (a part that is optional only beside another); their sandbox run says so."""
    if not isinstance(pattern, str) or len(pattern) > _MAX_PATTERN:
        return []
    try:
        tree = sre_parse.parse(pattern, flags)
        named = frozenset(tree.state.groupdict.values())
        items = list(tree)
        texts = [_walk(items, {}, in_optional=False, named=named)]
        optional = [k for k, (op, arg) in enumerate(items) if str(op) in _REPEATS and arg[0] == 0]
        for k in optional:
            only = [item for j, item in enumerate(items) if j == k or j not in optional]
            texts.append(_walk(only, {}, in_optional=False, named=named))
    except (_Unsupported, re.error, RecursionError, OverflowError, ValueError, TypeError, IndexError):
        return []
    return list(dict.fromkeys(t for t in texts if t and len(t) <= _MAX_EXAMPLE and t.isprintable()))


def _walk(items: list, groups: dict[int, str], in_optional: bool, named: frozenset[int]) -> str:
    return "".join(_one(str(op), arg, groups, in_optional, named) for op, arg in items)


def _one(op: str, arg: object, groups: dict[int, str], in_optional: bool, named: frozenset[int]) -> str:
    if op == "LITERAL":
        return chr(arg)  # type: ignore[arg-type]
    if op == "NOT_LITERAL":
        return next(c for c in _TRIES if ord(c) != arg)
    if op == "ANY":
        return "a"
    if op in ("AT", "ASSERT", "ASSERT_NOT"):
        return ""
    if op == "IN":
        return _from_set(arg)  # type: ignore[arg-type]
    if op == "SUBPATTERN":
        group, _add, _del, body = arg  # type: ignore[misc]
        text = _walk(list(body), groups, in_optional, named)
        if group is not None:
            groups[group] = text
        return text
    if op == "GROUPREF":
        return groups.get(arg, "")  # type: ignore[arg-type]
    if op in _REPEATS:
        low, _high, body = arg  # type: ignore[misc]
        if low == 0:
            # Optional: taken once, unless it sits inside a part already taken as optional and is not a part
            # its author named (``(?P<years>[0-9]+([,.][0-9]+)?Y)?`` gives ``1Y``, not ``1,1Y``; the hours
            # inside an optional ``(T(?P<hours>...)?)?`` are taken).
            body = list(body)
            named_part = len(body) == 1 and str(body[0][0]) == "SUBPATTERN" and body[0][1][0] in named
            return "" if in_optional and not named_part else _walk(body, groups, True, named)
        once = _walk(list(body), groups, in_optional, named)
        if len(once) * min(low, 8) > _MAX_EXAMPLE:  # ``((a{9}){9}){9}...``: never built, however deep
            raise _Unsupported("too long")
        return once * min(low, 8)
    if op == "BRANCH":
        _none, branches = arg  # type: ignore[misc]
        return _walk(list(branches[0]), groups, in_optional, named)
    if op == "ATOMIC_GROUP":
        return _walk(list(arg), groups, in_optional, named)  # type: ignore[arg-type]
    raise _Unsupported(op)


def _from_set(items: list) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in items)
    chars: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            low, high = arg
            chars.append("1" if low <= ord("1") <= high else chr(low))
        elif name == "CATEGORY":
            chars.append(_CATEGORY.get(str(arg), "a"))
    if not negate:
        if not chars:
            raise _Unsupported("empty set")
        return chars[0]
    return next((c for c in _TRIES if not _in_set(c, items)), "~")


def _in_set(char: str, items: list) -> bool:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL" and chr(arg) == char:
            return True
        if name == "RANGE" and arg[0] <= ord(char) <= arg[1]:
            return True
        if name == "CATEGORY" and _CATEGORY.get(str(arg).replace("_NOT_", "_"), "") == char:
            return True
    return False
