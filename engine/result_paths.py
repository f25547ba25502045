"""Where a result's files may be written: checked here, because a result is input.

A result row comes back from PostgreSQL, which a team shares with workers on
other machines (``POSTGRES_URL``): a bad worker, or anyone who can write the
row, chooses its ``files`` keys and its ``repository``. Save and
``aiwebtest generate --write`` join those keys to a folder; unchecked, a key
such as ``../../.bashrc`` or ``/etc/cron.d/x`` directs a write anywhere the
user can write (issue 28). Every writer goes through ``inside``.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from engine.errors import BadResult

# What our generators name files: ``tests/test_generated_x.py``, ``tests/conftest.py``. Letters, digits, ``_``,
# ``-`` and ``.`` in each part; nothing hidden, nothing that is not Python.
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
MAX_PARTS = 8


def inside(folder: Path, name: object) -> Path:
    """``folder / name`` if ``name`` is a relative path of a Python file that stays inside ``folder`` (links
    followed); ``BadResult`` naming the file otherwise. Reads the file system: callers on the loop use a thread."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        raise BadResult(f"result file {name!r}: not a relative path; the result was not written")
    pure = PurePosixPath(name)
    if pure.is_absolute() or len(pure.parts) > MAX_PARTS or not all(_PART.fullmatch(p) for p in pure.parts) \
            or any(p in (".", "..") for p in pure.parts) or pure.suffix != ".py":
        raise BadResult(f"result file {name!r}: not a relative path of a .py file inside the folder (letters, "
                         "digits, '_', '-', '.'); the result was not written")
    base = folder.resolve()
    path = (base / pure).resolve()  # a link inside the folder that points out of it is caught here
    if not path.is_relative_to(base):
        raise BadResult(f"result file {name!r}: it leads out of {base} (through a link); the result was not "
                         "written")
    return path


def all_inside(folder: Path, names: object) -> dict[str, Path]:
    """Every name checked before any is written: a bad key refuses the whole result, so nothing is half-saved."""
    if not isinstance(names, dict):
        raise BadResult("result files: expected a mapping of file name to code; the result was not written")
    for code in names.values():
        if not isinstance(code, str):
            raise BadResult("result files: a file's code is not text; the result was not written")
    return {name: inside(folder, name) for name in names}
