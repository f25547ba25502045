"""Renews the leases of the tasks a worker holds, from a thread of its own.

Why a thread with its own event loop and its own PostgreSQL connection:
a lease renewed by a coroutine on the worker's loop lapses whenever a
handler holds that loop (CPU work, a slow library call). Issue 12
measured exactly that: live workers looked dead and their tasks ran two
or three times. Here renewal needs only this thread to be scheduled.

It is not blind either: the worker's loop ticks ``loop_alive()`` and the
keeper stops renewing once that loop has been silent for
``stall_limit_s``, so a process whose loop is stuck for good lets its
tasks go to others (and, fenced by the lease token, cannot finish them).

A task whose renewal comes back missing was lost (finished elsewhere,
failed by an operator, or taken after an expiry); ``on_lost(task_id)`` is
called on the worker's loop so it can stop that handler.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import asyncpg

from agents import tasks
from agents.store_retry import is_transient

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, dsn: str, *, lease_s: float, renew_every_s: float, stall_limit_s: float,
                 on_lost: Callable[[str], None], name: str = "lease-keeper") -> None:
        self.dsn = dsn
        self.lease_s = lease_s
        self.renew_every_s = renew_every_s
        self.stall_limit_s = stall_limit_s
        self._on_lost = on_lost
        self._name = name
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._loop_alive_at = time.monotonic()
        self._owner_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.renewals = 0  # passes that reached PostgreSQL (for tests and health)

    def start(self) -> None:
        self._owner_loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    def hold(self, task_id: str, token: str) -> None:
        with self._lock:
            self._held[task_id] = token

    def release(self, task_id: str) -> None:
        with self._lock:
            self._held.pop(task_id, None)

    def loop_alive(self) -> None:
        """Called from the worker's loop: it still turns."""
        self._loop_alive_at = time.monotonic()

    # -- the thread ------------------------------------------------------------

    def _run(self) -> None:
        # A plain selector loop: under the GUI, qasync's policy would hand this thread a Qt loop,
        # and Qt event dispatchers belong to the main thread.
        with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self.dsn, timeout=5, command_timeout=5)
                    await self._renew_once(conn)
                except Exception as exc:  # noqa: BLE001 - the next pass tries again
                    if not is_transient(exc) and not isinstance(exc, TimeoutError):
                        log.exception("%s: renewal failed", self._name)
                    if conn is not None:
                        conn.terminate()
                        conn = None
                wait = max(self.renew_every_s - (time.monotonic() - started), 0.05)
                await asyncio.to_thread(self._stop.wait, wait)
        finally:
            if conn is not None:
                conn.terminate()

    async def _renew_once(self, conn: asyncpg.Connection) -> None:
        stalled_s = time.monotonic() - self._loop_alive_at
        if stalled_s > self.stall_limit_s:
            log.error("%s: the worker's loop has not turned for %.0f s; letting its leases lapse",
                      self._name, stalled_s)
            return
        with self._lock:
            held = dict(self._held)
        if not held:
            return
        kept = await tasks.renew(conn, held, self.lease_s)
        self.renewals += 1
        for task_id in held.keys() - kept:
            with self._lock:
                if self._held.get(task_id) != held[task_id]:
                    continue  # released or re-held meanwhile; not a loss
                del self._held[task_id]
            log.warning("%s: lease on %s lost", self._name, task_id)
            if self._owner_loop is not None and not self._owner_loop.is_closed():
                self._owner_loop.call_soon_threadsafe(self._on_lost, task_id)
