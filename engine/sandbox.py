"""Runs untrusted commands: own process group, scratch dir, time and memory caps.

Generated tests execute code nobody vetted, so:

* the environment is built from an allow-list, never copied from ours, so
  no secret (``LLM_API_KEY``, ``STAGEHAND_API_KEY``, database or Redis URLs)
  can reach the test;
* the memory cap is ``RLIMIT_DATA`` (writable private memory: heap and
  anonymous mappings, what a memory hog grows), set by a tiny launcher that
  then ``exec``s the command (no ``preexec_fn``: it is unsafe in a process
  with threads, and Qt has threads). ``RLIMIT_AS`` was tried first and kills
  Chromium and Playwright's node driver at start, which reserve gigabytes of
  address space they never touch;
* on time-out the whole process tree is killed (process group first, then
  any descendant that left the group);
* stdout and stderr are read as they come and capped, so a test printing
  forever cannot fill our memory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

OUTPUT_CAP_BYTES = 256 * 1024
# Variables a test may inherit from us; everything else is dropped.
_PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")

_LAUNCHER = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "if limit > 0:\n"
    "    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float
    memory_mb: int


@dataclass(frozen=True)
class SandboxResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    truncated: bool

    @property
    def out_of_memory(self) -> bool:
        return "MemoryError" in self.stdout or "MemoryError" in self.stderr


def clean_env(scratch: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a sandboxed command sees."""
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        HOME=str(scratch),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONNOUSERSITE="1",
    )
    if extra:
        env.update(extra)
    return env


async def run_sandboxed(
    argv: Sequence[str],
    *,
    python: str,
    cwd: Path,
    limits: SandboxLimits,
    env: Mapping[str, str],
    output_cap: int = OUTPUT_CAP_BYTES,
) -> SandboxResult:
    """Run ``argv`` under ``python``'s launcher with the given limits.

    ``python`` runs the launcher (any CPython has ``resource``); ``argv[0]``
    is then exec'd with the memory cap in force.
    """
    memory_bytes = limits.memory_mb * 1024 * 1024 if limits.memory_mb else 0
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        python, "-c", _LAUNCHER, str(memory_bytes), *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # own process group: killable as a whole
    )
    out_buf = _CappedBuffer(output_cap)
    err_buf = _CappedBuffer(output_cap)
    readers = asyncio.gather(_drain(proc.stdout, out_buf), _drain(proc.stderr, err_buf))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), limits.timeout_s)
    except TimeoutError:
        timed_out = True
        kill_tree(proc.pid)
        await proc.wait()
    except asyncio.CancelledError:
        kill_tree(proc.pid)
        await proc.wait()
        raise
    finally:
        # Grandchildren may hold the pipes open; don't wait on them forever.
        try:
            await asyncio.wait_for(readers, 2.0)
        except TimeoutError:
            kill_tree(proc.pid)
    return SandboxResult(
        returncode=proc.returncode if proc.returncode is not None else -9,
        stdout=out_buf.text(),
        stderr=err_buf.text(),
        timed_out=timed_out,
        duration_s=time.perf_counter() - start,
        truncated=out_buf.truncated or err_buf.truncated,
    )


def kill_tree(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` and every descendant."""
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass


class _CappedBuffer:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self.cap - self.size
        if room <= 0:
            self.truncated = True
            return
        if len(chunk) > room:
            chunk = chunk[:room]
            self.truncated = True
        self.parts.append(chunk)
        self.size += len(chunk)

    def text(self) -> str:
        text = b"".join(self.parts).decode(errors="replace")
        return text + ("\n[output truncated]" if self.truncated else "")


async def _drain(stream: asyncio.StreamReader | None, sink: _CappedBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        sink.add(chunk)


def default_python() -> str:
    """Our own interpreter when running from source, else ``python3`` on PATH."""
    if getattr(sys, "frozen", False):
        return "python3"
    return sys.executable
