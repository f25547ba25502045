"""A second search on the core CrossHair frees early, for what is left of the first search's window.

On a 2-core machine a module's round 1 runs CrossHair on one core and one
Pynguin on the other (agents/evolution.py ``_pynguin_configurations``).
CrossHair often ends long before the search does: 7 s of 37 on
``tomli._parser``, 12 s on ``bidict._base`` (session 14's bench), and its
core then idles while Pynguin alone, in the bench, searches all 60 s. A
second Pynguin (another algorithm and seed) then searches what is left of
the window, less its own start-up, so both end about together; keep and
distillation already keep to the request's due time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Pynguin's analysis of the module before its search (4-10 s measured): the second search ends with the first.
SECOND_START_UP_S = 6.0
# Less search than this finds little a first search of the whole window has not (and still costs its start-up).
MIN_SECOND_SEARCH_S = 10.0


class FreedCore:
    """``window_s``: the first search's time from now. ``signalling`` wraps the job whose end frees the core;
    ``search`` starts the second search then, or returns None when too little of the window is left."""

    def __init__(self, window_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._end = self._loop.time() + window_s
        self._freed = asyncio.Event()
        self._start = self._loop.time()
        # How long the second search waited for the core: its own step, not part of its ``generate`` time.
        self.waited_s = 0.0

    async def signalling(self, job: Awaitable[T]) -> T:
        try:
            return await job
        finally:
            self._freed.set()

    def left_s(self) -> float:
        """Search time a second search would get if it started now."""
        return self._end - self._loop.time() - SECOND_START_UP_S

    async def search(self, start: Callable[[int], Awaitable[Any]]) -> Any | None:
        await self._freed.wait()
        self.waited_s = self._loop.time() - self._start
        left = self.left_s()
        if left < MIN_SECOND_SEARCH_S:
            return None
        return await start(int(left))
