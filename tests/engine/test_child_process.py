"""Children started off the loop: output, exit, reaping, cancellation, and the app's Qt loop."""

from __future__ import annotations

import asyncio
import sys
import threading

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
        return [p for p in psutil.Process().children() if "61.5" in " ".join(p.cmdline())
                and p.status() != psutil.STATUS_ZOMBIE]

    await asyncio.sleep(1.0)  # the spawn thread has long finished: its child exists or never will
    for _ in range(200):
        if not sleepers():
            break
        await asyncio.sleep(0.05)
    assert sleepers() == []


def test_the_exit_is_seen_on_the_apps_qt_loop(qapp) -> None:
    """The app's loop is qasync's: its reader for the child's pidfd is a Qt socket notifier."""
    import qasync

    async def run() -> tuple[bytes, int]:
        child = await child_process.start([sys.executable, "-c", "print('qt')"])
        out, _ = await child.communicate()
        return out, await child.wait()

    loop = qasync.QEventLoop(qapp)
    try:
        assert loop.run_until_complete(asyncio.wait_for(run(), 20)) == (b"qt\n", 0)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
