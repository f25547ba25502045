"""Runs the app's coroutines from Qt slots on the shared qasync loop.

A slot calls ``runner.run(coro, on_done)``; the result comes back to
``on_done`` on the loop (which is Qt's thread), and a failure is emitted
as ``error`` with a readable message, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from agents.store_retry import is_transient, set_retry_budget
from engine.errors import AppError

log = logging.getLogger(__name__)

REFRESH_BUDGET_S = 3.0  # how long a view's periodic read waits out a store restart before saying "stale"


def describe(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return str(exc)
    if isinstance(exc, OSError) or type(exc).__module__.startswith(("asyncpg", "redis")):
        return f"A service is not answering ({type(exc).__name__}: {exc}). It is retried; check the status bar."
    return f"Unexpected error: {type(exc).__name__}: {exc}"


class AsyncRunner(QObject):
    """Signals:
        error(str): a coroutine failed; the text is for the user.
        busy_changed(bool): whether anything is running.
    """

    error = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refreshing: dict[str, asyncio.Task[Any]] = {}

    def refresh(self, key: str, coro: Coroutine[Any, Any, Any], on_done: Callable[[Any], None] | None = None,
                on_error: Callable[[str], None] | None = None) -> asyncio.Task[Any] | None:
        """A view's periodic read: store calls retry for ``REFRESH_BUDGET_S`` only, not the agents' 60 s (a view
        says its data is stale instead: ui/stale_note.py), and one still running for ``key`` is not started
        again (during an outage a 1 s timer piled up a read per second, each waiting out its budget)."""
        running = self._refreshing.get(key)
        if running is not None and not running.done():
            coro.close()
            return None
        context = contextvars.copy_context()
        context.run(set_retry_budget, REFRESH_BUDGET_S)
        task = self.run(asyncio.get_event_loop().create_task(coro, context=context), on_done, on_error)
        self._refreshing[key] = task
        return task

    def run(self, coro: Awaitable[Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[str], None] | None = None) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        self.busy_changed.emit(True)

        def finished(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            self.busy_changed.emit(bool(self._tasks))
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None:
                if is_transient(exc):  # a store restarting: said in one line (a soak's log had its traceback)
                    log.warning("background call failed while a store was away: %s", describe(exc))
                elif not isinstance(exc, AppError):
                    log.error("background call failed", exc_info=exc)
                message = describe(exc)
                (on_error or self.error.emit)(message)
                return
            if on_done is not None:
                on_done(t.result())

        task.add_done_callback(finished)
        return task

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
