"""Which Python runs a target project's tests, and whether it can.

Tests run on the environment built for the repository from its declared
dependencies (``engine/repo_env.py``), else the configured interpreter,
else ours. The repository's own ``.venv`` is never run: its interpreter
and ``.pth`` files are the repository's code. The pytest/coverage check
runs in the sandbox like everything else.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from engine.errors import AppError
from engine.sandbox import SandboxLimits, clean_env, default_python, run_sandboxed


class InterpreterError(AppError):
    """The chosen interpreter is missing, or lacks pytest or coverage."""


_checked: dict[str, str] = {}


def choose_interpreter(configured: str | None = None) -> str:
    """The configured interpreter, else ours / ``python3``."""
    return configured or default_python()


async def ensure_test_tools(python: str, *, allow_unisolated: bool = False) -> str:
    """Check pytest and coverage import under ``python``; return its version line.

    Cached per interpreter path: the check costs a process start (~100 ms).
    """
    if python in _checked:
        return _checked[python]
    resolved = python if Path(python).exists() else shutil.which(python)
    if resolved is None:
        raise InterpreterError(
            f"The Python interpreter {python!r} was not found. Set an existing one in Settings, or "
            "leave it unset to use the app's own."
        )
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-check-"))
    try:
        result = await run_sandboxed(
            [resolved, "-c",
             "import sys\nmissing=[]\n"
             "for m in ('pytest','coverage'):\n"
             "    try: __import__(m)\n"
             "    except ImportError: missing.append(m)\n"
             "print(' '.join(missing) or 'ok'); print(sys.version.split()[0])"],
            python=resolved, cwd=scratch, limits=SandboxLimits(60, 1024), env=clean_env(scratch),
            allow_unisolated=allow_unisolated,
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
    lines = result.stdout.split()
    if result.returncode != 0 or not lines:
        raise InterpreterError(f"{resolved} does not run: {result.stderr.strip()[-300:]}")
    if lines[0] != "ok":
        missing = " and ".join(lines[:-1])
        raise InterpreterError(
            f"{missing} {'is' if len(lines) == 2 else 'are'} not installed for {resolved}. "
            f"Install with: {resolved} -m pip install pytest coverage"
        )
    _checked[python] = lines[-1]
    return lines[-1]


def pytest_plugin_env(python: str) -> dict[str, str]:
    """What a pytest run under ``python`` needs so that only the repository's plugins load.

    Our own interpreter's site-packages are the app's, not the repository's: in a developer's install
    they hold pytest-qt (which imports Qt), schemathesis, hypothesis and pytest-xdist, which a user's
    install does not have. Autoloaded, they changed what a generated test saw and cost 1.0-1.3 s of
    every sandboxed run (0.27 s without). A repository's own environment, or an interpreter the user
    configured, keeps its plugins: they are what its tests are written against.
    """
    if not getattr(sys, "frozen", False) and python == sys.executable:
        return {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return {}
