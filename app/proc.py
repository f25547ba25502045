"""Small async helpers for the server subprocesses we start and adopt.

Everything here awaits; nothing blocks the event loop on a child process.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import psutil

from engine import child_process


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


async def run_command(
    *argv: str | Path,
    user: str | None = None,
    timeout_s: float = 60.0,
    env: dict[str, str] | None = None,
) -> CommandResult:
    """Run a short command to completion without blocking the loop.

    ``user`` switches to that account (we are root on CI, and PostgreSQL
    refuses to run as root). Its own group replaces root's groups as well:
    with gid 0 kept, the group bits of root-owned folders would apply
    instead of the "other" bits we open for it. A command past its time
    is killed.
    """
    ids: dict[str, object] = {}
    if user is not None:
        import pwd

        ids = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
    proc = await child_process.start(argv, env=env, start_new_session=True, **ids)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    return CommandResult(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))


def process_alive(pid: int | None, name_contains: str = "") -> bool:
    """True if ``pid`` runs and, when given, its command line mentions ``name_contains``.

    The name check guards against a recycled PID after a reboot: a stale
    pid file could otherwise point at an unrelated process.
    """
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if name_contains:
            return name_contains in " ".join(proc.cmdline()) or name_contains in proc.name()
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


async def wait_gone(pid: int, timeout_s: float) -> bool:
    """Poll until ``pid`` has exited; True if it did within the time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if not process_alive(pid):
            return True
        await asyncio.sleep(0.05)
    return not process_alive(pid)


async def terminate(pid: int, timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout_s``."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if await wait_gone(pid, wait_s):
            return


def read_pid(path: Path) -> int | None:
    """The first line of a pid file as an int, or None if absent or garbled."""
    try:
        first = path.read_text().split("\n", 1)[0].strip()
        return int(first)
    except (OSError, ValueError):
        return None
