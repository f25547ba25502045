"""Keeps Postgres and Redis in agreement: Postgres wins.

Every pass: agents whose heartbeats stopped are marked ``unhealthy``;
tasks left ``pending`` (for example after Redis lost its data) are
announced again; tasks ``in_progress`` under an agent that is gone are put
back to ``pending`` and announced; streams are trimmed of acknowledged
entries. A duplicate announcement is harmless: claiming is atomic.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import redis.asyncio as aioredis

from agents import registry, tasks
from agents.bus import Bus
from agents.constants import AGENT_TYPES, TASK_HANDLERS, heartbeat_key, work_stream
from agents.task_stop import cancel_and_wait

log = logging.getLogger(__name__)

_LOCK_KEY = "agents:reconciler:lock"


class Reconciler:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, *, interval_s: float = 2.0,
                 pending_after_s: float = 5.0, silent_after_s: float = 6.0) -> None:
        self.pool = pool
        self.redis = redis
        self.bus = Bus(redis)
        self.interval_s = interval_s
        self.pending_after_s = pending_after_s
        self.silent_after_s = silent_after_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], who="reconciler")
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except (OSError, aioredis.RedisError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("reconciler pass failed (%s); next in %.0f s", exc, self.interval_s)
            await asyncio.sleep(self.interval_s)

    async def run_once(self) -> dict[str, int]:
        # One reconciler at a time across processes; passes are idempotent anyway.
        if not await self.redis.set(_LOCK_KEY, "1", nx=True, px=int(self.interval_s * 1000)):
            return {}
        counts = {"unhealthy": 0, "redispatched": 0, "released": 0, "trimmed": 0}
        counts["unhealthy"] = len(await registry.mark_silent_unhealthy(self.pool, self.silent_after_s))
        for task in await tasks.stale(self.pool, self.pending_after_s):
            stream = work_stream(TASK_HANDLERS.get(task["task_type"], "orchestration"))
            if task["status"] == "in_progress":
                owner = task["assigned_agent_id"]
                if owner and await self.redis.exists(heartbeat_key(owner)):
                    continue  # alive after all; its heartbeat will mark it healthy
                if not await tasks.release(self.pool, task["task_id"], owner):
                    continue
                counts["released"] += 1
            elif not await self.redis.set(f"agents:announced:{task['task_id']}", "1", nx=True,
                                          px=int(self.pending_after_s * 3000)):
                continue  # announced recently; it is waiting for a free worker
            await self.bus.send(stream, task["task_id"])
            counts["redispatched"] += 1
        for agent_type in AGENT_TYPES:
            counts["trimmed"] += await self.bus.trim(work_stream(agent_type))
        return counts
