"""One running agent instance: registration, heartbeats, the consume loop.

``start()`` registers and starts the loops; ``stop()`` drains: it stops
taking messages, lets running tasks finish (up to ``drain_timeout_s``),
and marks the instance ``shutting_down``. No OS signal handlers here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from agents import metrics, registry, tasks
from agents.base import Agent, Services, TaskContext, TaskFailed
from agents.bus import Message
from agents.constants import group_name, heartbeat_key, inbox_stream, work_stream
from agents.task_stop import cancel_and_wait

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 10.0

_TRANSIENT = (OSError, aioredis.ConnectionError, aioredis.TimeoutError, asyncpg.PostgresConnectionError,
              asyncpg.InterfaceError, asyncpg.CannotConnectNowError)


@dataclass(frozen=True)
class WorkerSettings:
    max_concurrent_tasks: int = 5
    heartbeat_interval_s: float = 1.0
    alive_ttl_s: float = 5.0
    reclaim_idle_ms: int = 5000
    max_deliveries: int = 3
    block_ms: int = 200


class AgentWorker:
    """Attributes:
        agent_id: ``agent_{type}_{8 hex}``, unique per instance.
        active: tasks being handled now.
    """

    def __init__(self, agent: Agent, services: Services, settings: WorkerSettings | None = None,
                 agent_id: str | None = None) -> None:
        self.agent = agent
        self.services = services
        self.settings = settings or WorkerSettings()
        self.agent_id = agent_id or f"agent_{agent.agent_type}_{uuid.uuid4().hex[:8]}"
        self.group = group_name(agent.agent_type)
        self.streams = [work_stream(agent.agent_type), inbox_stream(self.agent_id)]
        self.active: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        await registry.register(
            self.services.pool, agent_id=self.agent_id, agent_type=self.agent.agent_type,
            capabilities=self.agent.capabilities, priority=self.agent.priority,
            inbox=inbox_stream(self.agent_id), max_concurrent_tasks=self.settings.max_concurrent_tasks,
            host=socket.gethostname(), pid=os.getpid(),
        )
        await self._ensure_groups()
        await self._beat()
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._heartbeat_loop(), name=f"{self.agent_id}-heartbeat"),
            loop.create_task(self._consume_loop(), name=f"{self.agent_id}-consume"),
            loop.create_task(self._reclaim_loop(), name=f"{self.agent_id}-reclaim"),
        ]

    async def stop(self, drain_timeout_s: float = 30.0) -> None:
        self._stopping.set()
        try:
            await registry.set_status(self.services.pool, self.agent_id, "shutting_down")
        except _TRANSIENT:
            pass
        if self.active:
            await asyncio.wait(self.active, timeout=drain_timeout_s)
        # Repeated and bounded: redis-py swallows a cancel that lands inside a command
        # (agents/task_stop.py), and a stuck handler must not hold shutdown for ever.
        await cancel_and_wait([*self._loops, *self.active], grace_s=CANCEL_GRACE_S, who=self.agent_id)
        try:
            await self.services.redis.delete(heartbeat_key(self.agent_id))
        except _TRANSIENT:
            pass

    # -- loops -----------------------------------------------------------------

    async def _ensure_groups(self) -> None:
        for stream in self.streams:
            await self.services.bus.ensure_group(stream, self.group)

    async def _beat(self) -> None:
        ttl_ms = int(self.settings.alive_ttl_s * 1000)
        await self.services.redis.set(heartbeat_key(self.agent_id), str(os.getpid()), px=ttl_ms)
        await registry.heartbeat(self.services.pool, self.agent_id, len(self.active))

    async def _heartbeat_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._beat()
            except _TRANSIENT as exc:
                log.warning("%s: heartbeat failed (%s); retrying", self.agent_id, exc)
            await asyncio.sleep(self.settings.heartbeat_interval_s)

    async def _consume_loop(self) -> None:
        while not self._stopping.is_set():
            free = self.settings.max_concurrent_tasks - len(self.active)
            if free <= 0:
                await asyncio.wait(self.active, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                messages = await self.services.bus.read(
                    self.streams, self.group, self.agent_id, free, self.settings.block_ms
                )
            except ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis lost its data: recreate and carry on
                    await self._ensure_groups()
                    continue
                raise
            except _TRANSIENT as exc:
                log.warning("%s: bus unreachable (%s); retrying in 1 s", self.agent_id, exc)
                await asyncio.sleep(1.0)
                continue
            for message in messages:
                self._spawn(message, reclaim=False)

    async def _reclaim_loop(self) -> None:
        interval_s = max(self.settings.reclaim_idle_ms / 2000, 0.2)
        while not self._stopping.is_set():
            await asyncio.sleep(interval_s)
            for stream in self.streams[:1]:  # inboxes are personal; work streams are shared
                try:
                    claimed, dead = await self.services.bus.reclaim(
                        stream, self.group, self.agent_id,
                        min_idle_ms=self.settings.reclaim_idle_ms,
                        owner_alive=self._owner_alive,
                        max_deliveries=self.settings.max_deliveries,
                    )
                except ResponseError:
                    continue
                except _TRANSIENT:
                    continue
                for message in dead:
                    await _retry(lambda m=message: tasks.fail(
                        self.services.pool, m.task_id,
                        f"delivered {m.deliveries} times without finishing; moved to the dead-letter stream",
                    ))
                for message in claimed:
                    log.info("%s reclaimed %s (delivery %d)", self.agent_id, message.task_id, message.deliveries)
                    self._spawn(message, reclaim=True)

    async def _owner_alive(self, consumer: str) -> bool:
        return bool(await self.services.redis.exists(heartbeat_key(consumer)))

    # -- one task --------------------------------------------------------------

    def _spawn(self, message: Message, *, reclaim: bool) -> None:
        task = asyncio.get_running_loop().create_task(self._process(message, reclaim))
        self.active.add(task)
        task.add_done_callback(self.active.discard)

    async def _process(self, message: Message, reclaim: bool) -> None:
        pool = self.services.pool
        claimed = await _retry(lambda: tasks.claim(pool, message.task_id, self.agent_id, reclaim=reclaim))
        if claimed is None:  # finished already, or another instance holds it
            await _retry(lambda: self.services.bus.ack(message, self.group))
            return
        ctx = TaskContext(self.services, self.agent_id, claimed)
        started = time.perf_counter()
        ok = True
        try:
            result = await self.agent.handle(ctx)
            done = await _retry(lambda: tasks.complete(pool, message.task_id, self.agent_id, result,
                                                       token_usage=ctx.tokens_used))
        except asyncio.CancelledError:
            raise  # stopping without drain: leave the message pending for another instance
        except Exception as exc:  # noqa: BLE001 - every failure becomes the task's error
            ok = False
            reason = str(exc) if isinstance(exc, TaskFailed) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, TaskFailed):
                log.exception("%s: task %s crashed", self.agent_id, message.task_id)
            done = await _retry(lambda: tasks.fail(pool, message.task_id, reason, agent_id=self.agent_id,
                                                   token_usage=ctx.tokens_used))
        if done:
            latency_ms = (time.perf_counter() - started) * 1000
            await _retry(lambda: metrics.record_task(pool, self.agent_id, message.task_id, ok, latency_ms,
                                                     ctx.tokens_used))
        # Ack only now that the outcome is durable in Postgres.
        await _retry(lambda: self.services.bus.ack(message, self.group))


async def _retry(make: Any, attempts: int = 60, delay_s: float = 0.5) -> Any:
    """Retry a Postgres/Redis write through a server restart (about 30 s)."""
    for attempt in range(attempts):
        try:
            return await make()
        except _TRANSIENT:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(delay_s)
    return None
