"""The soak's frame clock: how late each timer tick came, and each minute's worst gap, which a frozen loop cannot hide.

A 5 ms timer on the GUI loop calls ``tick()``; ``minute()`` closes the
window. The worst gap is measured from timestamps, including the time
since the last tick: a loop frozen for the whole minute served no tick,
and reads as a 60 s gap, not as "p99 0 ms" from an empty list (what
issue 28 found the soak printing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Minute:
    lags_ms: list[float]  # each tick's lateness
    worst_gap_ms: float  # the longest time without a tick, the open one at the end included

    @property
    def ticks(self) -> int:
        return len(self.lags_ms)


class TickMeter:
    def __init__(self, tick_ms: float) -> None:
        self.tick_ms = tick_ms
        self._lags: list[float] = []
        self._last = time.perf_counter()
        self._window_started = self._last

    def tick(self) -> None:
        now = time.perf_counter()
        self._lags.append(max(0.0, (now - self._last) * 1000 - self.tick_ms))
        self._last = now

    def minute(self) -> Minute:
        """The window since the last call (or the start), and a new one begun."""
        now = time.perf_counter()
        lags, self._lags = self._lags, []
        open_gap = (now - max(self._last, self._window_started)) * 1000
        self._window_started = now
        return Minute(lags, max([open_gap, *(lag + self.tick_ms for lag in lags)]))
