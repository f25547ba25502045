"""Search's random short strings replaced by text a person writes, where a run shows nothing else changes.

Pynguin draws short strings at random (``'G|Sck`x#8JR:~'``,
``'\\x0cZXT~.yFvbzVv\\nX+;'``); a reviewer reads ``slugify(text='Hello
World') == 'hello-world'`` at a glance and has to decode the other. The
shrink (agents/distil_step.py) offers each step here like its other kinds:
every noisy string input of a unit becomes the step's candidate (the text
its parameter's name suggests first, agents/generation/typical_values.py,
then common phrases, with punctuation, digits, accents or a line break for
branches that need them), and a unit keeps the first step that still passes
and covers every line and branch it covered. A string whose characters
matter (an entity such as ``'&amp;'`` that reaches a branch of its own)
finds no candidate that covers as much and stays as search wrote it.
"""

from __future__ import annotations

import ast
import copy
import re
import unicodedata

from agents.generation.test_units import Unit
from agents.generation.typical_values import typical_text

LONG = 80  # longer strings are the long-text shrink's (agents/generation/shrink.py)
_PHRASES = ("Hello World", "hello", "Hello, World!", "Hello World 42", "Héllo Wörld", "Hello\nWorld", "a")
_SEPARATORS = ("-", "_", ".", " ", "::", "+", "a")
_SEPARATOR_NAME = re.compile(r"(.*_)?(sep|separator|delimiter|joiner)(_.*)?")
STEPS = tuple(range(1 + len(_PHRASES)))
_ODD = set("`~^|{}[]<>\\;$%*=#&\"")
_MIXED = re.compile(r"[^\W\d_]\d[^\W\d_]|\d[^\W\d_]\d")  # "5Z1I"; "v2", "utf8" and "sha256" read as words


def noisy(text: object) -> bool:
    """Whether ``text`` reads as search's random draw rather than as something a person wrote. Bytes too:
    marshmallow's kept ``Equal(comparable=b"\\x19q|\\r\\xc4 e\\xd7{")`` reads as ``b"Hello World"``."""
    if isinstance(text, bytes) and 2 <= len(text) <= LONG:
        return any(b < 0x20 or b > 0x7E for b in text) or noisy(text.decode("ascii"))
    if not isinstance(text, str) or not 2 <= len(text) <= LONG:
        return False
    if any(unicodedata.category(c).startswith("C") for c in text) or any(c in _ODD for c in text):
        return True
    if _MIXED.search(text) or text.count("(") != text.count(")"):
        return True
    words = re.findall(r"[^\W\d_]+", text)
    return any(not (w.islower() or w.isupper() or w.istitle()) for w in words)


def _name_of(stmt: ast.stmt, target: ast.Constant, uses: dict[str, str]) -> str:
    """The parameter a constant feeds (``text`` in ``slugify(text=...)``), or the variable it is assigned to."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.keyword) and node.arg and any(n is target for n in ast.walk(node.value)):
            return node.arg
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
        name = stmt.targets[0].id
        return uses.get(name, name)
    return ""


def _raises_args(stmt: ast.stmt) -> set[int]:
    """Constants inside ``pytest.raises(...)``: an expected message is the generator's, not an input."""
    if not isinstance(stmt, ast.With):
        return set()
    return {id(n) for item in stmt.items for n in ast.walk(item.context_expr)}


def _inputs(unit: Unit) -> list[ast.stmt]:
    return [s for s in unit.body if not isinstance(s, ast.Assert)]


def has_noisy_text(unit: Unit) -> bool:
    return any(isinstance(n, ast.Constant) and noisy(n.value) and id(n) not in _raises_args(s)
               for s in _inputs(unit) for n in ast.walk(s))


def candidate(name: str, step: int) -> str:
    """The ``step``-th text tried for a parameter called ``name``."""
    first = typical_text(name) or "Hello World"
    rest = _SEPARATORS if _SEPARATOR_NAME.fullmatch(name.lower()) else _PHRASES
    choices = [first, *[c for c in rest if c != first]]
    return choices[min(step, len(choices) - 1)]


def readable_at(unit: Unit, step: int) -> Unit:
    """Every noisy string input replaced by its ``step``-th candidate; where the generator's assertions repeat
    one, they repeat the replacement (the run decides whether they still hold)."""
    body = copy.deepcopy(unit.body)
    uses = {kw.value.id: kw.arg for s in body for kw in ast.walk(s)
            if isinstance(kw, ast.keyword) and kw.arg and isinstance(kw.value, ast.Name)}
    changes: dict[str | bytes, str | bytes] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            continue
        skip = _raises_args(stmt)
        for node in [n for n in ast.walk(stmt) if isinstance(n, ast.Constant) and noisy(n.value)]:
            if id(node) in skip:
                continue
            new: str | bytes = changes.get(node.value) or candidate(_name_of(stmt, node, uses), step)
            if isinstance(node.value, bytes) and isinstance(new, str):
                new = new.encode("utf-8")
            changes[node.value] = new
            node.value = new
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            for node in ast.walk(stmt):
                if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and node.value in changes:
                    node.value = changes[node.value]
    return Unit(unit.source, body, unit.decorators, unit.plain)
