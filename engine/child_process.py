"""Child processes started off the event loop.

``asyncio.create_subprocess_exec`` forks and waits for the child's ``exec`` on the loop's thread:
the soak's stall watcher named ``engine/sandbox.py``'s spawn as a loop stall of up to ~100 ms
under load (issue 28: a big process forks slowly, and the loop waits until the child has been
scheduled and exec'd). Here ``subprocess.Popen`` runs in a worker thread, the pipes are handed
to the loop afterwards, and the exit is awaited through a pidfd the loop watches (Linux 5.3+), or
in a thread where there is none. The object answers the part of ``asyncio.subprocess.Process``
our callers use.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL


class Child:
    """A running child: its pid, its output as stream readers, and its exit awaited without blocking."""

    def __init__(self, popen: subprocess.Popen[bytes], stdout: asyncio.StreamReader | None,
                 stderr: asyncio.StreamReader | None) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdout = stdout
        self.stderr = stderr
        self._exited: asyncio.Future[int] | None = None

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    async def wait(self) -> int:
        """The exit status, once the child has ended (reaped here: no zombie is left)."""
        if self._popen.returncode is not None:
            return self._popen.returncode
        if self._exited is None:
            self._exited = _exit_future(self._popen)
        return await asyncio.shield(self._exited)

    def kill(self) -> None:
        """SIGKILL to the child itself (process groups are ``engine/process_tree.kill_tree``'s job)."""
        if self._popen.returncode is None:
            try:
                self._popen.kill()
            except ProcessLookupError:
                pass

    async def communicate(self, stdin_data: bytes | None = None) -> tuple[bytes, bytes]:
        """All of stdout and stderr once the child has ended; ``stdin_data`` is written in a thread first."""
        if self._popen.stdin is not None:
            await asyncio.to_thread(_feed, self._popen.stdin, stdin_data or b"")
        out, err = await asyncio.gather(_read_all(self.stdout), _read_all(self.stderr))
        await self.wait()
        return out, err


async def start(argv: Sequence[str | Path], *, cwd: str | Path | None = None, env: Mapping[str, str] | None = None,
                stdin: int | None = DEVNULL, stdout: int | None = PIPE, stderr: int | None = PIPE,
                start_new_session: bool = False, **popen_args: object) -> Child:
    """Start ``argv`` in a worker thread; raises what ``Popen`` raises (``FileNotFoundError``, ``OSError``)."""
    loop = asyncio.get_running_loop()
    spawn = asyncio.ensure_future(asyncio.to_thread(
        subprocess.Popen, [str(a) for a in argv], cwd=None if cwd is None else str(cwd),
        env=None if env is None else dict(env), stdin=stdin, stdout=stdout, stderr=stderr,
        start_new_session=start_new_session, close_fds=True, **popen_args))
    try:
        popen = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # The thread cannot be stopped: the child it starts is killed as soon as it exists.
        spawn.add_done_callback(_kill_spawned)
        raise
    try:
        out = await _reader(loop, popen.stdout)
        err = await _reader(loop, popen.stderr)
    except BaseException:
        popen.kill()
        await asyncio.to_thread(popen.wait)
        raise
    return Child(popen, out, err)


async def _reader(loop: asyncio.AbstractEventLoop, pipe: object) -> asyncio.StreamReader | None:
    if pipe is None:
        return None
    reader = asyncio.StreamReader(limit=2**20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader


def _exit_future(popen: subprocess.Popen[bytes]) -> asyncio.Future[int]:
    """A future set when ``popen`` exits: from a pidfd the loop watches, else from a thread's ``wait``."""
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(popen.pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or the child is gone and reaped already
        return asyncio.ensure_future(asyncio.to_thread(popen.wait))
    done: asyncio.Future[int] = loop.create_future()

    def _ready() -> None:
        code = popen.poll()  # waitpid(WNOHANG): the child is a zombie once its pidfd reads ready
        if code is None:
            return
        loop.remove_reader(pidfd)
        os.close(pidfd)
        if not done.done():
            done.set_result(code)

    loop.add_reader(pidfd, _ready)
    _ready()  # it may have ended before the reader was added
    return done


def _kill_spawned(spawn: asyncio.Future[subprocess.Popen[bytes]]) -> None:
    if spawn.cancelled() or spawn.exception() is not None:
        return
    popen = spawn.result()
    popen.kill()
    threading.Thread(target=popen.wait, daemon=True).start()  # reaped without the loop


def _feed(pipe: object, data: bytes) -> None:
    try:
        pipe.write(data)  # type: ignore[attr-defined]
    except BrokenPipeError:
        pass
    finally:
        try:
            pipe.close()  # type: ignore[attr-defined]
        except BrokenPipeError:
            pass


async def _read_all(stream: asyncio.StreamReader | None) -> bytes:
    return b"" if stream is None else await stream.read()
