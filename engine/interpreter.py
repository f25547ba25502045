"""Which Python runs a target project's tests, and whether it can.

Tests run on the *target project's* interpreter so its dependencies are
importable, and so the engine works when the app itself is frozen (a
PyInstaller bundle has no pytest to lend).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from app.errors import AppError
from engine.sandbox import default_python


class InterpreterError(AppError):
    """The chosen interpreter is missing, or lacks pytest or coverage."""


_VENV_CANDIDATES = (".venv/bin/python", "venv/bin/python", ".venv/Scripts/python.exe")
_checked: dict[str, str] = {}


def choose_interpreter(repository: Path | None, configured: str | None = None) -> str:
    """The repository's venv, else the configured one, else ours / ``python3``."""
    if repository is not None:
        for candidate in _VENV_CANDIDATES:
            path = repository / candidate
            if path.exists():
                return str(path)
    if configured:
        return configured
    return default_python()


async def ensure_test_tools(python: str) -> str:
    """Check pytest and coverage import under ``python``; return its version line.

    Cached per interpreter path: the check costs a process start (~100 ms).
    """
    if python in _checked:
        return _checked[python]
    resolved = python if Path(python).exists() else shutil.which(python)
    if resolved is None:
        raise InterpreterError(
            f"The Python interpreter {python!r} was not found. Create a virtual environment in the "
            "repository (.venv) or set the interpreter in Settings."
        )
    proc = await asyncio.create_subprocess_exec(
        resolved, "-c",
        "import sys\nmissing=[]\n"
        "for m in ('pytest','coverage'):\n"
        "    try: __import__(m)\n"
        "    except ImportError: missing.append(m)\n"
        "print(' '.join(missing) or 'ok'); print(sys.version.split()[0])",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    lines = out.decode().split()
    if proc.returncode != 0 or not lines:
        raise InterpreterError(f"{resolved} does not run: {err.decode().strip()[:300]}")
    if lines[0] != "ok":
        missing = " and ".join(lines[:-1])
        raise InterpreterError(
            f"{missing} {'is' if len(lines) == 2 else 'are'} not installed for {resolved}. "
            f"Install with: {resolved} -m pip install pytest coverage"
        )
    _checked[python] = lines[-1]
    return lines[-1]
