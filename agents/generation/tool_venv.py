"""A generator's own virtual environment under ``DATA/tools``, installed on first use.

Pynguin pins pytest<9, rich<15, black<26 and setuptools<81; CrossHair
brings z3. Both clash with ours or weigh too much to ship in the app's
environment, so each lives in ``DATA/tools/<name>-<version>``. The install
is trusted (our pinned package from the configured index); what the tool
later runs on a repository is not, and is sandboxed by its caller.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from filelock import AsyncFileLock

from agents.generation import StrategyError
from engine import child_process
from engine.repo_env import uv_binary

_INSTALL_TIMEOUT_S = 900


class ToolVenv:
    def __init__(self, tools_dir: Path, name: str, version: str, *, package: str | None = None,
                 python: str | None = None) -> None:
        self.venv = tools_dir / f"{name}-{version}"
        self.name, self.version = name, version
        self.requirement = f"{package or name}=={version}"
        self.base_python = python or (sys.executable if not getattr(sys, "frozen", False) else "python3")
        self._lock = asyncio.Lock()

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    async def ensure_installed(self) -> Path:
        """The venv's interpreter, after installing the tool once.

        One install at a time in this process (the asyncio lock) and across
        processes sharing the data dir (the file lock: the GUI and a CLI run
        may both meet a missing venv).
        """
        async with self._lock:
            if (self.venv / ".installed").exists():
                return self.python
            self.venv.parent.mkdir(parents=True, exist_ok=True)
            async with AsyncFileLock(str(self.venv) + ".lock", timeout=_INSTALL_TIMEOUT_S):
                if not (self.venv / ".installed").exists():
                    await self._install()
            return self.python

    async def _install(self) -> None:
        # uv, not "python -m venv" + pip: Debian's python3 has no venv module without python3-venv (the
        # packaged app runs on it), and uv installs Pynguin's pins in seconds instead of a minute.
        uv = uv_binary()
        # The tools' own cache: these installs are trusted and run unsandboxed, so they never share
        # one with the repositories' sandboxed builds (engine/repo_env.py).
        env = {**os.environ, "UV_CACHE_DIR": str(self.venv.parent / "uv-cache"),
               "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
        for argv in (
            [uv, "venv", "--quiet", "--clear", "--python", self.base_python, str(self.venv)],
            # Compiled at install: the tool runs sandboxed with PYTHONDONTWRITEBYTECODE, so what is not
            # compiled now is compiled again on every run.
            [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(self.python), self.requirement],
        ):
            proc = await child_process.start(argv, env=env)
            try:
                _, err = await asyncio.wait_for(proc.communicate(), _INSTALL_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                raise StrategyError(f"Installing {self.requirement} took more than 15 minutes; "
                                    "check the package index.") from None
            if proc.returncode != 0:
                raise StrategyError(
                    f"Could not install {self.requirement} into {self.venv}: "
                    f"{err.decode(errors='replace').strip().splitlines()[-1:]}"
                )
        (self.venv / ".installed").touch()


async def site_hook(scratch: Path, site_packages: Path | None) -> dict[str, str]:
    """Environment that appends the repository's ``site_packages`` to a tool's path, or nothing.

    A ``sitecustomize`` adds it after the tool's own packages, so the
    repository's pytest cannot replace the one the tool pins.
    """
    if site_packages is None:
        return {}
    hook = scratch / "site-hook"
    await asyncio.to_thread(hook.mkdir)
    await asyncio.to_thread((hook / "sitecustomize.py").write_text,
                            f"import site\nsite.addsitedir({str(site_packages)!r})\n")
    return {"PYTHONPATH": str(hook)}
