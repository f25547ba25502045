"""UI tests run on a qasync loop, as the app does: awaiting also runs Qt."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import qasync
import redis.asyncio as aioredis
from PySide6.QtWidgets import QApplication

from app.control import ControlCenter
from app.core import AppCore
from tests.conftest import make_config
from ui.async_bridge import AsyncRunner


_LOOPS: list[qasync.QEventLoop] = []
# Past this, a UI test's tasks are dumped and cancelled (below pytest-timeout's 300 s).
STUCK_AFTER_S = 240.0


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    # As in the app: closing the last window (a dialog) must not quit Qt and stop the loop.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    _LOOPS[:] = [loop]
    return loop


def _dump_and_cancel(loop: asyncio.AbstractEventLoop) -> None:
    print(f"\n== a UI test is stuck after {STUCK_AFTER_S:.0f} s; its tasks: ==", file=sys.stderr)
    for task in asyncio.all_tasks(loop):
        task.print_stack(limit=12, file=sys.stderr)
    for task in asyncio.all_tasks(loop):
        task.cancel()


@pytest.fixture(autouse=True)
def stuck_test_guard() -> Iterator[None]:
    """Turns a UI test that waits for ever into a failure that shows where it waited.

    pytest-timeout cannot help here: its SIGALRM handler is Python code, and
    while Qt sleeps in poll() with no timer pending no Python code runs. A
    thread can still wake the loop (call_soon_threadsafe posts a Qt event),
    print every task's stack and cancel them, so the await that never
    returned is in the report.
    """
    timer = threading.Timer(STUCK_AFTER_S, lambda: [loop.call_soon_threadsafe(_dump_and_cancel, loop)
                                                    for loop in list(_LOOPS) if not loop.is_closed()])
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


def pytest_asyncio_loop_factories(config, item):
    return {"qasync": _qasync_loop}


@pytest.fixture
def make_control(qapp, servers, migrated_db: str, data_dir: Path, pynguin_runner):
    """``async with make_control() as control``: a real AppCore (six agents, no API).

    Started *inside* the test's coroutine, not in an async fixture: between
    fixture and test, pytest-qt processes Qt events while no asyncio loop
    runs, and qasync would then step the agents' tasks outside a running
    loop ("RuntimeError: no running event loop"). The app itself runs
    everything inside one qasync.run, so this is a test-harness matter.
    """
    (data_dir / "tools").symlink_to(pynguin_runner.venv.parent)

    @contextlib.asynccontextmanager
    async def started() -> AsyncIterator[ControlCenter]:
        flush = aioredis.from_url(servers.redis_url)
        await flush.flushdb()
        await flush.aclose()
        core = AppCore(make_config(data_dir, postgres_url=migrated_db, redis_streams_url=servers.redis_url),
                       serve_api=False)
        await core.start()
        try:
            yield ControlCenter(core)
        finally:
            await core.shutdown()

    return started


@pytest.fixture
def runner(qapp) -> AsyncRunner:
    return AsyncRunner()
