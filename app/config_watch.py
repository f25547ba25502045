"""Each process listens for ``system_config`` changes and acknowledges them.

Routing reads ``system_config`` on every request, so a change applies to
the next request anyway; this watcher exists to *show* that: every process
records, in Redis, when it saw each change. The Rollout panel's Rollback
waits for all live processes and reports the slowest.

Redis keys: ``aiwebtest:processes`` (hash process -> last alive epoch) and
``aiwebtest:config-seen:{key}`` (hash process -> epoch the change was seen).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from agents.task_stop import cancel_and_wait

log = logging.getLogger(__name__)

PROCESSES_KEY = "aiwebtest:processes"
CHANNEL = "system_config_changed"


def seen_key(config_key: str) -> str:
    return f"aiwebtest:config-seen:{config_key}"


@dataclass(frozen=True)
class Propagation:
    processes: int
    reached: int
    slowest_s: float | None

    @property
    def complete(self) -> bool:
        return self.reached == self.processes


class ConfigWatcher:
    def __init__(self, url: str, redis: aioredis.Redis, *, alive_interval_s: float = 1.0) -> None:
        self.url = url
        self.redis = redis
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.alive_interval_s = alive_interval_s
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._conn = await asyncpg.connect(self.url)
        await self._conn.add_listener(CHANNEL, self._on_notify)
        self._task = asyncio.get_running_loop().create_task(self._alive_loop(), name="config-watcher")

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        change = json.loads(payload)
        task = asyncio.get_running_loop().create_task(self._ack(change["key"]))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _ack(self, key: str) -> None:
        try:
            await self.redis.hset(seen_key(key), self.process_id, repr(time.time()))
        except (OSError, aioredis.RedisError) as exc:
            log.warning("could not acknowledge config change %s: %s", key, exc)

    async def _alive_loop(self) -> None:
        while True:
            try:
                await self.redis.hset(PROCESSES_KEY, self.process_id, repr(time.time()))
            except (OSError, aioredis.RedisError):
                pass
            await asyncio.sleep(self.alive_interval_s)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], who="config watcher")
            await asyncio.gather(*self._pending, return_exceptions=True)
            self._task = None
        try:
            await self.redis.hdel(PROCESSES_KEY, self.process_id)
        except (OSError, aioredis.RedisError):
            pass
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def propagation(redis: aioredis.Redis, key: str, changed_at: float, alive_within_s: float = 5.0) -> Propagation:
    """How many live processes have seen a change made at ``changed_at``, and the slowest."""
    now = time.time()
    live = [p.decode() for p, at in (await redis.hgetall(PROCESSES_KEY)).items()
            if now - float(at) <= alive_within_s]
    seen = {p.decode(): float(at) for p, at in (await redis.hgetall(seen_key(key))).items()}
    delays = [seen[p] - changed_at for p in live if p in seen and seen[p] >= changed_at - 0.001]
    return Propagation(len(live), len(delays), max(delays) if delays else None)
