"""Values that hold where the repository sits on this machine: a kept test must not pin them.

humanize's ``_get_default_locale_path()`` returns ``<repository>/src/humanize/locale``;
the distilled test asserted it equal to ``/tmp/.../humanize-4.9.0/src/humanize/locale``
and failed in every other checkout (the whole-repository bench measures in a fresh copy:
0/3 green). The user's checkout is such a copy: the app generates in its own workspace.
A value that starts with the repository's path is checked by what follows it
(``.endswith('/src/humanize/locale')``); one that holds it elsewhere by its type only; a
test whose code still names the path is not kept.
"""

from __future__ import annotations

import ast
from pathlib import Path

from engine.python_source import parse_source


def machine_paths(repository: Path) -> tuple[str, ...]:
    """The repository's absolute path as runs may see it (as given, and with links resolved); never a path
    so short that ordinary text contains it ("/", "/tmp")."""
    found = {str(repository), str(repository.resolve())}
    return tuple(sorted((p for p in found if len(Path(p).parts) > 2), key=len, reverse=True))


def relative_tail(value: str, paths: tuple[str, ...]) -> str | None:
    """What follows the repository's path at the start of ``value`` (``/src/x/locale``), or None."""
    for path in paths:
        if value.startswith(path + "/") or value.startswith(path + "\\"):
            return value[len(path):]
    return None


def names_a_machine_path(text: str, paths: tuple[str, ...]) -> bool:
    return any(path in text for path in paths)


def pinning_machine_paths(code: str, paths: tuple[str, ...]) -> list[str]:
    """Top-level tests of ``code`` whose source names one of ``paths``."""
    if not paths or not names_a_machine_path(code, paths):
        return []
    try:
        tree = parse_source(code)
    except SyntaxError:
        return []
    lines = code.splitlines()
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            source = "\n".join(lines[node.lineno - 1:node.end_lineno])
            if names_a_machine_path(source, paths):
                out.append(node.name)
    return out
