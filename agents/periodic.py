"""One periodic loop, written once (house style 16): the reconciler, the alert monitor, the server
supervisor and the health monitor each give it a step and an interval.

``start()`` runs the loop as a task; ``stop()`` cancels it (until it ends:
``task_stop.cancel_and_wait``); ``drain()`` lets the step in progress
finish, runs no other, and returns once the loop has ended: the mode
for tests and for a stop that must not cut a step in half. A step that
raises one of ``survive`` is reported to ``on_error`` and the next step
comes on time; anything else ends the loop, as a bug should.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from agents.task_stop import cancel_and_wait

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, step: Callable[[], Awaitable[object]], interval_s: float, *,
                 survive: tuple[type[BaseException], ...] = (Exception,),
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.survive = survive
        self.on_error = on_error or (lambda exc: log.warning("%s: step failed (%s: %s); next in %.1f s",
                                                             name, type(exc).__name__, exc, self.interval_s))
        self.steps = 0  # steps ended so far, failed ones included
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._draining.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while not self._draining.is_set():
            try:
                await self.step()
            except self.survive as exc:
                self.on_error(exc)
            self.steps += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._draining.wait(), self.interval_s)

    async def stop(self) -> None:
        """Cancel the loop wherever it is, and wait until it has ended."""
        if self._task is not None:
            await cancel_and_wait([self._task], who=self.name)
            self._task = None

    async def drain(self, timeout_s: float = 30.0) -> None:
        """End the loop after the step in progress; then ``stop()`` if that step outlives ``timeout_s``."""
        if self._task is None:
            return
        self._draining.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except asyncio.TimeoutError:
            log.warning("%s: the step in progress outlived %.0f s; cancelling it", self.name, timeout_s)
        finally:
            await self.stop()
