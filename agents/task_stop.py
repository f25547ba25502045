"""Stopping background tasks when one ``cancel()`` is not enough.

redis-py 8.1 (asyncio) swallows a cancellation most of the time when it
lands inside a command: in a loop of ``SET`` calls cancelled at a random
moment, 71 of 100 tasks went on running (asyncpg's ``fetchval``: 0 of
100; measured on this machine, Python 3.11.7). The task stays "cancelling"
and sleeps to its next pass, so ``task.cancel(); await task`` waits for
ever. A known class of redis-py bugs (redis/redis-py#2028, #2551).

Cancelling again at the next await ends such a task: its ``CancelledError``
is re-raised from whatever it awaits next. So stopping means cancelling
until done, within a bound, and naming what refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

# Between repeated cancels: long enough for a clean unwind, short enough to notice.
_RECANCEL_EVERY_S = 0.2


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object]], *, grace_s: float = 10.0,
                          who: str = "") -> set[asyncio.Task[object]]:
    """Cancel ``tasks`` until each has ended or ``grace_s`` passed; return those left running.

    Never raises the tasks' own exceptions: they are stopping, their
    errors were reported where they happened.
    """
    every = list(tasks)
    pending = {task for task in every if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while pending:
        for task in pending:
            task.cancel()
        left_s = deadline - loop.time()
        if left_s <= 0:
            break
        _done, pending = await asyncio.wait(pending, timeout=min(_RECANCEL_EVERY_S, left_s))
    for task in every:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" noise at exit
    for task in pending:
        log.warning("%s%s ignored cancellation for %.0f s; leaving it behind",
                    f"{who}: " if who else "", task.get_name(), grace_s)
    return pending
