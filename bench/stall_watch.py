"""Names what held the GUI's event loop: a watcher thread samples the loop thread's stack during each stall.

The soak's 5 ms timer says *that* a tick came late, not *why*. Here the
loop thread beats a heartbeat on every tick; a daemon thread looks at it
every ``POLL_S``, and when a beat is older than ``threshold_ms`` it takes
the loop thread's stack once (``sys._current_frames``) and, when the beat
comes back, closes the stall with its length and the CPU time the loop
thread used meanwhile (``time.pthread_getcpuclockid``):

* the loop found idle (Qt's ``exec``, a selector at the top of its stack)
  and still late: **starvation**, the process did not get a core;
* anything else: **blocking**, code on the loop (the stack names it):
  "wait" when polls of the thread's kernel state (``/proc/self/task/TID/stat``)
  found it mostly asleep (S or D: a blocking call), "cpu" when runnable;
  ``cpu_share`` says how much of a core it got meanwhile (low: the machine
  was loaded, and the step would be shorter on an idle one).

Standard library only; the watcher holds no lock the loop thread waits on.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLL_S = 0.01
ROOT = Path(__file__).resolve().parents[1]
OURS = tuple(str(ROOT / name) + "/" for name in ("app", "ui", "agents", "engine", "bench"))  # worth naming


@dataclass(frozen=True)
class Stall:
    length_ms: float
    cpu_ms: float  # the loop thread's CPU time from the stall's detection to its end
    watched_ms: float  # the wall time of that same window (the stall less the threshold and one poll)
    where: str  # our innermost frame at the first sample (or the innermost frame at all)
    stack: str  # the whole stack at the first sample, innermost last

    idle: bool = False  # the sample found the loop waiting for events (Qt's exec, a selector)
    sleeping: float = 0.0  # share of polls that found the loop thread asleep in the kernel (state S or D)

    @property
    def kind(self) -> str:
        """"starved": the loop was idle and still late (the process did not get a core); "blocking (wait)": code
        on the loop asleep in a blocking call (file, socket, sleep, a child's exit); "blocking (cpu)": code on the
        loop runnable, i.e. computing (``cpu_share`` says how much of a core it got: low is load on the machine)."""
        if self.idle:
            return "starved"
        return "blocking (wait)" if self.sleeping >= 0.5 else "blocking (cpu)"

    @property
    def cpu_share(self) -> float:
        return self.cpu_ms / max(self.watched_ms, 0.1)


class StallWatch:
    def __init__(self, threshold_ms: float = 100.0) -> None:
        self.threshold_s = threshold_ms / 1000
        self.loop_thread = threading.get_ident()
        self._state_file = f"/proc/self/task/{threading.get_native_id()}/stat"
        self._clock = time.pthread_getcpuclockid(self.loop_thread)
        self._beat = time.perf_counter()
        self._stalls: list[Stall] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)

    def beat(self) -> None:
        """Called on the loop thread on every tick."""
        self._beat = time.perf_counter()

    def _asleep(self) -> int:
        """1 if the loop thread sleeps in the kernel now (S: interruptible, D: disk), else 0 (R: runnable)."""
        try:
            with open(self._state_file) as f:  # noqa: PTH123 - a /proc read on the watcher thread, not the loop
                return 1 if _state_of(f.read()) in ("S", "D") else 0
        except OSError:
            return 0

    def take(self) -> list[Stall]:
        """The stalls closed since the last call (the list is swapped, not copied: a minute's worth at most)."""
        taken, self._stalls = self._stalls, []
        return taken

    def _watch(self) -> None:
        stalled_at: float | None = None
        seen_at = cpu_at = 0.0
        sample = where = ""
        idle = False
        polls = asleep = 0
        while not self._stop.wait(POLL_S):
            beat = self._beat
            now = time.perf_counter()
            if stalled_at is None:
                if now - beat > self.threshold_s:
                    stalled_at, seen_at, cpu_at = beat, now, time.clock_gettime(self._clock)
                    sample, where, idle = _stack_of(self.loop_thread)
                    polls = asleep = 0
            elif beat > stalled_at:  # the loop came back
                cpu = (time.clock_gettime(self._clock) - cpu_at) * 1000
                self._stalls.append(Stall(round((beat - stalled_at) * 1000, 1), round(cpu, 1),
                                          round((now - seen_at) * 1000, 1), where, sample, idle,
                                          asleep / max(polls, 1)))
                stalled_at = None
            else:
                polls += 1
                asleep += self._asleep()


_IDLE = {"select", "poll", "exec", "exec_", "run_forever", "processEvents"}


def _state_of(stat_line: str) -> str:
    return stat_line.rsplit(")", 1)[1].split()[0] if ")" in stat_line else "?"


def _frames_of(thread_id: int) -> Any:
    """``sys._current_frames()[thread_id]`` with the collector off meanwhile: on CPython before 3.11.9 the call
    holds the runtime's thread list lock, and a collection inside it can wait for the GIL while the GIL's holder
    waits for that lock (python/cpython#106883). The first soak with this watcher froze so at minute 7 (gdb:
    every thread in take_gil, one in threading.local's dealloc waiting for the lock); the upstream fix is the
    same: no collection during the call."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return sys._current_frames().get(thread_id)  # noqa: SLF001 - the documented way to sample a thread
    finally:
        if enabled:
            gc.enable()


def _stack_of(thread_id: int) -> tuple[str, str, bool]:
    """(the stack, where it stood, whether the loop was idle waiting for events)."""
    frame = _frames_of(thread_id)
    if frame is None:
        return "", "(thread gone)", False
    frames = traceback.extract_stack(frame)
    ours = [f for f in frames if f.filename.startswith(OURS)]
    pick = (ours or frames)[-1]
    where = f"{Path(pick.filename).parent.name}/{Path(pick.filename).name}:{pick.lineno} {pick.name}"
    top = frames[-1]
    if top is not pick:
        where += f" (in {Path(top.filename).name}:{top.lineno} {top.name})"
    return "".join(traceback.format_list(frames[-12:])), where, top.name in _IDLE
