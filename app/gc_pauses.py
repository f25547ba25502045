"""Full garbage collections kept short: what start-up made is frozen, and every pause is measured.

A full collection (generation 2) walks every tracked object: a few hundred thousand once
PySide6, pyqtgraph, pydantic and the agents are loaded, all made at start-up and alive for the
whole session. ``tests/app/test_loop_blocking.py`` measured one holding the loop 146 ms, so
AppCore freezes what exists once it has started. The idle-machine soak of issue 28 then still
saw one stall of 120-160 ms every two minutes, each "blocking (cpu)" and each sampled at a
different harmless line (a Qt timer registration, a retry loop): the window's panels are made
after AppCore has started, and were walked by every full collection. So the window freezes
again once its panels exist. ``gc.freeze()`` moves what exists to the permanent generation,
which no collection walks; everything made later is collected as before. Nothing is collected
first: a ``gc.collect()`` on the loop would itself be the stall this removes.

``GcPauses`` times each collection through ``gc.callbacks`` (generation, milliseconds) for the
soak and diagnostics; ``AIWEBTEST_GC_FREEZE=0`` leaves start-up objects where they were (the
soak's A/B switch).
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any


def freeze_startup() -> int:
    """Move every object alive now out of the collector's walks; how many are frozen (0: switched off)."""
    if os.environ.get("AIWEBTEST_GC_FREEZE", "1") == "0":
        return 0
    gc.freeze()
    return gc.get_freeze_count()


class GcPauses:
    """Each collection's duration by generation: ``count``, ``worst_ms`` and ``total_ms`` of the full ones."""

    def __init__(self) -> None:
        self.count = 0
        self.worst_ms = 0.0
        self.total_ms = 0.0
        self.young_worst_ms = 0.0  # generations 0 and 1
        self.worst_collected = 0  # unreachable objects the worst full collection freed (what it cost: finalizers)
        self.collected = 0  # freed by all full collections
        self.worst_cpu_ms = 0.0  # the worst full collection's own CPU time: far below its wall, it waited (the GIL)
        self._began: float | None = None
        self._began_cpu = 0.0

    def start(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def stop(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began, self._began_cpu = time.perf_counter(), time.thread_time()
            return
        if self._began is None:
            return
        ms = (time.perf_counter() - self._began) * 1000
        self._began = None
        if info.get("generation") == 2:
            self.count += 1
            self.total_ms += ms
            self.collected += int(info.get("collected") or 0)
            if ms >= self.worst_ms:
                self.worst_ms, self.worst_collected = ms, int(info.get("collected") or 0)
                self.worst_cpu_ms = (time.thread_time() - self._began_cpu) * 1000
        else:
            self.young_worst_ms = max(self.young_worst_ms, ms)

    def figures(self) -> dict[str, float]:
        return {"gc_full": self.count, "gc_full_worst_ms": round(self.worst_ms, 1),
                "gc_full_total_ms": round(self.total_ms, 1), "gc_young_worst_ms": round(self.young_worst_ms, 1),
                "gc_full_worst_collected": self.worst_collected, "gc_full_worst_cpu_ms": round(self.worst_cpu_ms, 1)}


PAUSES = GcPauses()
"""The process's one measurement (gc.callbacks is process-wide): started with the app."""
