"""``ast.parse`` for code that parses in threads: one parse at a time in the process.

CPython 3.11 keeps the AST constructor's recursion depth per interpreter,
not per thread, so two threads parsing at once can fail with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905,
fixed in 3.12). The soak met it once in 87 generations after parsing moved
off the event loop into the default pool (issue 28). A parse takes
milliseconds; holding a lock for it costs nothing measurable and the error
cannot happen. Every parse in app/, agents/ and engine/ goes through here,
``ast.literal_eval`` of a string too (it parses).

The lock cannot cover parses we do not make: Python 3.11's traceback formatter parses
a source line to place its carets, in whatever thread formats an exception. The heap
bench (bench/generation_memory.py) met the error once in 80 generations with the lock
in place, so a parse that meets it is made again: the error says nothing about the
source, only that another thread's parse was interleaved with this one.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

_LOCK = threading.Lock()


_ATTEMPTS = 5


def parse_source(source: str | bytes, *args: Any, **kwargs: Any) -> Any:
    """``ast.parse(source, ...)``, serialised across threads (a ``Module``; an ``Expression`` for mode="eval")."""
    for attempt in range(_ATTEMPTS):
        try:
            with _LOCK:
                return ast.parse(source, *args, **kwargs)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def literal_eval(text: str) -> Any:
    """``ast.literal_eval`` of source text, its parse made through ``parse_source``."""
    return ast.literal_eval(parse_source(text.lstrip(" \t"), mode="eval"))


def check_syntax(code: str) -> str | None:
    """None if ``code`` parses, else a message with the line and column."""
    try:
        parse_source(code)
    except SyntaxError as exc:
        return f"line {exc.lineno}, column {exc.offset}: {exc.msg}"
    return None
