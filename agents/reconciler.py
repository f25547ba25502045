"""Keeps Postgres and Redis in agreement: Postgres wins.

Every pass: agents whose heartbeats stopped are marked ``unhealthy``;
tasks left ``pending`` (for example after Redis lost its data) and tasks
``in_progress`` whose lease expired (their worker died or stalled) are
announced again, and a worker claims them under a new lease; a task that
already ran ``max_attempts`` times is failed instead. Streams are trimmed
of acknowledged entries. A duplicate announcement is harmless: claiming
is atomic, and a live lease is never taken.
"""

from __future__ import annotations

import logging

import asyncpg
import redis.asyncio as aioredis

from agents import registry, tasks
from agents.bus import Bus
from agents.constants import AGENT_TYPES, DEAD_LETTER_STREAM, TASK_HANDLERS, work_stream
from agents.periodic import Periodic

log = logging.getLogger(__name__)

_LOCK_KEY = "agents:reconciler:lock"


class Reconciler:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, *, interval_s: float = 2.0,
                 pending_after_s: float = 5.0, silent_after_s: float = 6.0, max_attempts: int = 5) -> None:
        self.pool = pool
        self.redis = redis
        self.bus = Bus(redis)
        self.interval_s = interval_s
        self.pending_after_s = pending_after_s
        self.silent_after_s = silent_after_s
        self.max_attempts = max_attempts
        # A store still down after the pool's retries fails one pass; the next pass tries again.
        self._loop = Periodic("reconciler", lambda: self.run_once(), interval_s,
                              survive=(OSError, aioredis.RedisError, asyncpg.PostgresError, asyncpg.InterfaceError))

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def run_once(self) -> dict[str, int]:
        # One reconciler at a time across processes; passes are idempotent anyway.
        if not await self.redis.set(_LOCK_KEY, "1", nx=True, px=int(self.interval_s * 1000)):
            return {}
        counts = {"unhealthy": 0, "redispatched": 0, "exhausted": 0, "trimmed": 0}
        counts["unhealthy"] = len(await registry.mark_silent_unhealthy(self.pool, self.silent_after_s))
        for task in await tasks.stale(self.pool, self.pending_after_s):
            if task["attempts"] >= self.max_attempts:
                if await tasks.exhaust(self.pool, task["task_id"], self.max_attempts) is not None:
                    counts["exhausted"] += 1
                    await self.redis.xadd(DEAD_LETTER_STREAM, {"task_id": task["task_id"],
                                                               "attempts": str(task["attempts"])})
                continue
            if not await self.redis.set(f"agents:announced:{task['task_id']}", "1", nx=True,
                                        px=int(self.pending_after_s * 3000)):
                continue  # announced recently; it is waiting for a free worker
            # A custom task type is handled by the agent type of the same name.
            await self.bus.send(work_stream(TASK_HANDLERS.get(task["task_type"], task["task_type"])), task["task_id"])
            counts["redispatched"] += 1
        for agent_type in AGENT_TYPES:
            counts["trimmed"] += await self.bus.trim(work_stream(agent_type))
        return counts
