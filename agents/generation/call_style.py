"""How a distilled test writes a call: arguments by keyword, a method on its instance, what a raise said.

Split from agents/generation/distil.py, which decides what a unit asserts; these decide how its calls read.
"""

from __future__ import annotations

import ast
import re

from agents.generation.observe import Seen
from agents.generation.test_units import TestFile


def by_keyword(call: ast.Call, params: list[tuple[str, str]]) -> None:
    """Positional arguments as keywords, where the signature allows (``slugify(text='Hello')``).

    Not ``self`` (``Flags.finalize_pending(self=Flags())`` read as a riddle: a fresh instance becomes
    ``Flags().finalize_pending()``) nor a ``__s`` parameter, positional by the convention before ``/``
    (tomli's ``loads(__s='')`` was ``loads('')`` to every reader).
    """
    if params and params[0][0] == "self" and _own_instance(call):
        call.func = ast.Attribute(call.args[0], call.func.attr, ast.Load())  # type: ignore[attr-defined]
        call.args, params = call.args[1:], params[1:]
    while len(call.args) < len(params) and _positional_by_convention(params[len(call.args)][0]):
        # Pynguin writes every argument by name (``loads(__s='#')``): such a one goes back to its place.
        given = next((k for k in call.keywords if k.arg == params[len(call.args)][0]), None)
        if given is None:
            break
        call.keywords.remove(given)
        call.args.append(given.value)
    named = []
    for arg, (name, kind) in zip(call.args, params):
        if kind != "POSITIONAL_OR_KEYWORD" or isinstance(arg, ast.Starred) or name == "self" or \
                _positional_by_convention(name):
            break
        named.append(ast.keyword(name, arg))
    if not named or len(named) != len(call.args):
        return  # all or none: f(a, b=1) beats f(a=..., 1)
    taken = {k.arg for k in call.keywords}
    if taken & {k.arg for k in named}:
        return
    call.args = []
    call.keywords = named + call.keywords


def raise_match(stmt: ast.With, caught: Seen | None, parts: TestFile) -> None:
    """``pytest.raises(E, match='^What it said')``: the start of the exception's message, anchored.
    ``raises(TOMLDecodeError)`` alone let through a mutant that changed every message (mutmut writes
    ``'XXUnclosed arrayXX'``), and two raising calls that report different errors read as one behaviour.
    None where the message names an address or this machine's paths (it would differ on the next run or
    checkout), starts with no words, or with words the module does not write itself (the interpreter's own
    messages change between Python versions)."""
    raises = stmt.items[0].context_expr
    if caught is None or caught.message is None or not isinstance(raises, ast.Call) or raises.keywords:
        return
    if any(path in caught.message for path in parts.machine_paths):
        return
    words = message_words(caught.message)
    # The module's own words only: the interpreter's ("tuple index out of range") differ between Pythons.
    if words is not None and len(words) >= 8 and words in parts.module_source:
        raises.keywords.append(ast.keyword("match", ast.Constant(f"^{words}")))


def message_words(message: str | None) -> str | None:
    """The words an exception's message starts with: up to what a pattern reads otherwise, or what usually
    comes from the input (a quoted value, a number, what follows a colon), at most 60 characters; the same for
    every input that meets the same error. None without three letters in a row, or with an address."""
    if message is None or "0x" in message:
        return None
    words = re.split(r"[.^$*+?{}\[\]\\|()\n'\"0-9:]", message, maxsplit=1)[0].strip()
    if len(words) > 60:
        words = words[:60].rsplit(" ", 1)[0]
    return words if len(words) >= 4 and re.search(r"[A-Za-z]{3}", words) else None


def _positional_by_convention(name: str) -> bool:
    """``__s``: a parameter named so is positional-only by the convention from before ``/``."""
    return name.startswith("__") and not name.endswith("__")


def _own_instance(call: ast.Call) -> bool:
    """``C.m(C(...), ...)``: a method called through its class on an instance made right there."""
    first = call.args[0] if call.args else None
    return (isinstance(call.func, ast.Attribute) and isinstance(first, ast.Call)
            and not isinstance(first, ast.Starred) and ast.unparse(first.func) == ast.unparse(call.func.value))
