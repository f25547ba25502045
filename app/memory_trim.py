"""Hand freed heap pages back to the system once a minute (glibc's ``malloc_trim``).

Measured for issue 28, a soak of the real window with work flowing: RSS
grew 2-2.5 MB/min, yet Python's own heap did not (tracemalloc) and
malloc's live bytes did not either (heaptrack: ~52 MB from the second
minute to the fifteenth); ``/proc/PID/smaps`` put the growth in the main
arena's ``[heap]`` mapping (+30 MB in 12 minutes). That is memory the
process freed and glibc kept: free chunks below a live one at the top of
the heap, which glibc's automatic trim (the top only) never returns, and
``MALLOC_ARENA_MAX=2`` did not change it. ``malloc_trim(0)`` gives every
free page of every arena back (``madvise``). It walks the arenas under
their locks, so it runs on a thread, never on the event loop; elsewhere
than glibc it is a no-op. ``AIWEBTEST_MALLOC_TRIM_S=0`` turns it off
(the soak's A/B switch).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from collections.abc import Callable

from agents.periodic import Periodic

INTERVAL_S = 60.0


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


class MemoryTrim:
    """A periodic ``malloc_trim(0)`` off the loop; ``trims`` counts the ones that gave memory back."""

    def __init__(self, interval_s: float | None = None) -> None:
        if interval_s is None:
            interval_s = float(os.environ.get("AIWEBTEST_MALLOC_TRIM_S", INTERVAL_S))
        self.interval_s = interval_s
        self.trims = 0
        self._trim = _malloc_trim() if interval_s > 0 else None
        self._loop = Periodic("memory-trim", self.step, interval_s or INTERVAL_S) if self._trim else None

    @property
    def available(self) -> bool:
        return self._trim is not None

    async def step(self) -> None:
        if self._trim is not None and await asyncio.to_thread(self._trim, 0):
            self.trims += 1

    def start(self) -> None:
        if self._loop is not None:
            self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
