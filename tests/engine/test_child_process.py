"""Children started off the loop: output, exit, reaping, cancellation, and the app's Qt loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from engine import child_process


async def test_output_and_exit_status_arrive_and_the_child_is_reaped() -> None:
    child = await child_process.start(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"])
    out, err = await child.communicate()
    assert (out, err, child.returncode) == (b"out\n", b"err\n", 3)
    assert not psutil.pid_exists(child.pid) or psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE


async def test_the_fork_happens_on_a_worker_thread_not_the_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the module: the loop's thread never waits for a fork and exec (issue 28's stall)."""
    threads: list[threading.Thread] = []
    real_popen = child_process.subprocess.Popen

    def recording_popen(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread())
        return real_popen(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(child_process.subprocess, "Popen", recording_popen)
    child = await child_process.start([sys.executable, "-c", "pass"])
    assert await child.wait() == 0
    assert threads and threads[0] is not threading.main_thread()


async def test_stdin_is_fed_and_a_large_output_does_not_deadlock() -> None:
    child = await child_process.start(
        [sys.executable, "-c", "import sys; data = sys.stdin.read(); sys.stdout.write(data * 50)"],
        stdin=child_process.PIPE)
    out, _ = await child.communicate(b"x" * 10_000)
    assert len(out) == 500_000


async def test_wait_outlives_a_cancelled_waiter_and_kill_ends_the_child() -> None:
    child = await child_process.start([sys.executable, "-c", "import time; time.sleep(60)"])
    waiter = asyncio.ensure_future(child.wait())
    await asyncio.sleep(0.05)
    waiter.cancel()
    child.kill()
    assert await asyncio.wait_for(child.wait(), 10) == -9


async def test_a_start_cancelled_while_spawning_leaves_no_child() -> None:
    task = asyncio.ensure_future(child_process.start([sys.executable, "-c", "import time; time.sleep(61.5)"]))
    await asyncio.sleep(0)  # the thread is starting the child
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    def sleepers() -> list[psutil.Process]:
        found = []
        for p in psutil.Process().children():
            try:  # a killed child turns zombie (then goes) between the listing and the look: not a sleeper
                if p.status() != psutil.STATUS_ZOMBIE and "61.5" in " ".join(p.cmdline()):
                    found.append(p)
            except psutil.Error:
                continue
        return found

    await asyncio.sleep(1.0)  # the spawn thread has long finished: its child exists or never will
    for _ in range(200):
        if not sleepers():
            break
        await asyncio.sleep(0.05)
    assert sleepers() == []


def test_the_exit_is_seen_on_the_apps_qt_loop() -> None:
    """The app's loop is qasync's: its reader for the child's pidfd is a Qt socket notifier.

    In a process of its own: a qasync loop made and closed inside a test worker left Qt state that
    pytest-qt's event processing met later (a worker died of SIGSEGV two modules on).
    """
    script = (
        "import asyncio, sys\n"
        "import qasync\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from engine import child_process\n"
        "async def run():\n"
        "    child = await child_process.start([sys.executable, '-c', 'print(42)'])\n"
        "    out, _ = await child.communicate()\n"
        "    return out, await child.wait()\n"
        "app = QApplication([])\n"
        "loop = qasync.QEventLoop(app)\n"
        "print(loop.run_until_complete(asyncio.wait_for(run(), 20)))\n"
        "loop.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[2], env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "(b'42\\n', 0)"
