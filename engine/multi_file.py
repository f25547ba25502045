"""The multi-file test text: several test files shown, copied and stored as one text.

Each file starts with a header line ``# ===== tests/test_x.py =====``. This
module is its one writer and its one parser: the result's ``tests`` field
(API, CLI, the window's code view and clipboard) is made by ``join`` and
read by ``split`` and ``offset_of``.
"""

from __future__ import annotations

import re

_HEADER = "# ===== {} ====="
_HEADER_LINE = re.compile(r"^# ===== (.+?) =====$", re.MULTILINE)


def header(path: str) -> str:
    return _HEADER.format(path)


def join(files: dict[str, str]) -> str:
    """One text holding every file, each under its header, in the given order."""
    return "\n\n".join(f"{header(path)}\n{code}" for path, code in files.items())


def split(text: str) -> dict[str, str]:
    """The files of a joined text (``split(join(f)) == f`` for code that does not end in blank lines)."""
    found = list(_HEADER_LINE.finditer(text))
    files: dict[str, str] = {}
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        body = text[match.end() + 1:end]
        files[match.group(1)] = body[:-2] if index + 1 < len(found) and body.endswith("\n\n") else body
    return files


def offset_of(text: str, path: str) -> int:
    """Where ``path``'s header starts in a joined text; -1 when it is not there."""
    return text.find(header(path))
