"""Finds callbacks and task steps that hold an event loop, by the CPU time they use.

asyncio's debug mode times callbacks by the wall clock, so on a busy
2-core machine a step that was merely descheduled looks slow. Here each
``Handle._run`` is timed with ``time.thread_time()`` (CPU time of the
thread running the loop), which only work done on the loop adds to, and
a socket callback names its protocol (uvicorn's HTTP, asyncpg, redis) so
the report says which side was slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class LoopWatch:
    limit_s: float
    slow: list[str] = field(default_factory=list)
    worst_s: float = 0.0
    steps: int = 0
    gc_pauses_s: list[float] = field(default_factory=list)  # full (generation 2) collections


def _describe(handle: asyncio.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    protocol = getattr(owner, "_protocol", None)
    text = repr(handle)
    if isinstance(owner, asyncio.Task):  # a task step: where it awaits now, just after the slow part
        text += f" task {owner.get_name()} awaits at {' -> '.join(_awaiting(owner.get_coro()))}"
    if protocol is not None:
        text += f" protocol={type(protocol).__module__}.{type(protocol).__name__}"
    return text[:600]


def _awaiting(coro: object) -> list[str]:
    """The chain of coroutines a task is suspended in, outermost first, as file:line."""
    chain = []
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        frame = coro.cr_frame  # type: ignore[attr-defined]
        chain.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None)
    return chain


@contextlib.contextmanager
def watch_loop(limit_s: float = 0.1) -> Iterator[LoopWatch]:
    """Within the block, every callback over ``limit_s`` of CPU time is recorded (on any loop)."""
    result = LoopWatch(limit_s)
    original = asyncio.events.Handle._run

    def timed(handle: asyncio.Handle) -> None:
        started = time.thread_time()
        try:
            original(handle)
        finally:
            spent = time.thread_time() - started
            result.steps += 1
            result.worst_s = max(result.worst_s, spent)
            if spent > limit_s:
                result.slow.append(f"{spent * 1000:.0f} ms CPU: {_describe(handle)}")

    gc_started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_started[:] = [time.thread_time()]
        elif gc_started:
            result.gc_pauses_s.append(time.thread_time() - gc_started[0])

    asyncio.events.Handle._run = timed  # type: ignore[method-assign]
    gc.callbacks.append(on_gc)
    try:
        yield result
    finally:
        asyncio.events.Handle._run = original  # type: ignore[method-assign]
        gc.callbacks.remove(on_gc)
