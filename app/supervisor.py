"""Brings back an embedded PostgreSQL or Redis that died while the app runs.

Issue 12: after a kill -9 of either server the app carried on without it
for ever. The supervisor looks every ``poll_s`` at the servers this
process embeds (never at shared ones: those belong to someone else), and
when one has been gone for ``dead_for_s`` it starts it again under the
services lock, so two processes sharing a data dir restart it once and
the second adopts it. A restart that fails is tried again with a doubling
back-off (``first_backoff_s`` up to ``max_backoff_s``).

``dead_for_s`` lets an operator's own ``pg_ctl restart`` finish first: its
stop and start are a few seconds apart, and starting a second postmaster
into that gap would only make one of the two fail.

What it sees is kept per server in ``states`` (up, restarting, down, with
the restart count and the last error) for the health view, the status
bar and ``/api/health``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from agents.periodic import Periodic
from app.logs import SERVER_LOGS_KEPT, rotate
from app.services import ServiceManager

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Supervised:
    name: str  # postgres | redis
    state: str = "up"  # up | restarting | down
    restarts: int = 0
    attempt: int = 0  # restart attempts since it went away
    error: str | None = None
    since: float = 0.0  # monotonic time of the last change

    def describe(self) -> str:
        if self.state == "up":
            return f"up (restarted {self.restarts}×)" if self.restarts else "up"
        if self.state == "restarting":
            return f"restarting (attempt {self.attempt})"
        return f"down: {self.error}" if self.error else "down"


LOG_ROTATE_EVERY_S = 60.0


class ServerSupervisor:
    def __init__(self, manager: ServiceManager, *, poll_s: float = 0.5, dead_for_s: float = 2.0,
                 first_backoff_s: float = 1.0, max_backoff_s: float = 30.0) -> None:
        self.manager = manager
        self.poll_s = poll_s
        self.dead_for_s = dead_for_s
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        names = [n for n, embedded in (("postgres", manager.embeds_postgres), ("redis", manager.embeds_redis))
                 if embedded]
        self.states: dict[str, Supervised] = {n: Supervised(n, since=time.monotonic()) for n in names}
        self._gone_at: dict[str, float] = {}
        self._next_try: dict[str, float] = {}
        self._rounds = 0
        self._loop = Periodic("server-supervisor", self._round, poll_s)

    def start(self) -> None:
        if self.states:
            self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        for name in self.states:
            try:
                await self.check(name)
            except Exception:  # noqa: BLE001 - supervision must outlive any one failure
                log.exception("supervising %s failed", name)
        self._rounds += 1
        if "redis" in self.states and self._rounds % max(int(LOG_ROTATE_EVERY_S / self.poll_s), 1) == 0:
            # Redis reopens its log for every line, so a rename is all rotation takes.
            await asyncio.to_thread(rotate, self.manager.redis.log_file, keep=SERVER_LOGS_KEPT)

    def _server(self, name: str):
        return self.manager.postgres if name == "postgres" else self.manager.redis

    async def check(self, name: str) -> None:
        """One look at one server; restart it if it has been gone long enough."""
        now = time.monotonic()
        running = await asyncio.to_thread(self._server(name).running_info)  # reads files and /proc
        state = self.states[name]
        if running is not None:
            self._gone_at.pop(name, None)
            if state.state != "up":
                self.states[name] = replace(state, state="up", attempt=0, error=None, since=now)
            return
        gone_at = self._gone_at.setdefault(name, now)
        if now - gone_at < self.dead_for_s or now < self._next_try.get(name, 0.0):
            if state.state == "up":
                self.states[name] = replace(state, state="down", error="not running", since=now)
            return
        attempt = state.attempt + 1
        self.states[name] = replace(state, state="restarting", attempt=attempt, since=now)
        log.warning("embedded %s is not running; starting it again (attempt %d)", name, attempt)
        try:
            await self.manager.restart(name)
        except Exception as exc:  # noqa: BLE001 - shown, and tried again after the back-off
            backoff = min(self.first_backoff_s * 2 ** (attempt - 1), self.max_backoff_s)
            self._next_try[name] = time.monotonic() + backoff
            self.states[name] = replace(self.states[name], state="down", error=f"{exc}"[:300],
                                        since=time.monotonic())
            log.error("embedded %s did not start (attempt %d): %s; next try in %.0f s",
                      name, attempt, exc, backoff)
            return
        self._gone_at.pop(name, None)
        self._next_try.pop(name, None)
        self.states[name] = replace(self.states[name], state="up", attempt=0, error=None,
                                    restarts=state.restarts + 1, since=time.monotonic())
        log.warning("embedded %s is back after %.1f s", name, time.monotonic() - gone_at)
