"""UI tests run on a qasync loop, as the app does: awaiting also runs Qt."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import qasync
import redis.asyncio as aioredis
from PySide6.QtWidgets import QApplication

from app.control import ControlCenter
from app.core import AppCore
from tests.conftest import make_config
from ui.async_bridge import AsyncRunner


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    # As in the app: closing the last window (a dialog) must not quit Qt and stop the loop.
    app.setQuitOnLastWindowClosed(False)
    return qasync.QEventLoop(app)


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
