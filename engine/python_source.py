"""``ast.parse`` for code that parses in threads: one parse at a time in the process.

CPython 3.11 keeps the AST constructor's recursion depth per interpreter,
not per thread, so two threads parsing at once can fail with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905,
fixed in 3.12). The soak met it once in 87 generations after parsing moved
off the event loop into the default pool (issue 28). A parse takes
milliseconds; holding a lock for it costs nothing measurable and the error
cannot happen. Every parse in app/, agents/ and engine/ goes through here.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

_LOCK = threading.Lock()


def parse_source(source: str | bytes, *args: Any, **kwargs: Any) -> ast.Module:
    """``ast.parse(source, ...)``, serialised across threads."""
    with _LOCK:
        return ast.parse(source, *args, **kwargs)
