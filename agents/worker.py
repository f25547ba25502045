"""One running agent instance: registration, heartbeats, the consume loop, task leases.

``start()`` registers and starts the loops; ``stop()`` drains: it stops
taking messages, lets running tasks finish (up to ``drain_timeout_s``),
and marks the instance ``shutting_down``. No OS signal handlers here.

Each task runs under a lease in PostgreSQL (``agents/tasks.py``) that a
thread of its own renews (``agents/lease_keeper.py``), so a handler busy
on the loop keeps its task. A stream message is only a wake-up: whether a
task may run here is decided by claiming its lease, and how often a task
may run after crashes is counted per task (``attempts``), not per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from agents import metrics, registry, tasks
from agents.base import Agent, Services, TaskContext, TaskFailed
from agents.bus import Message
from agents.constants import (
    DEAD_LETTER_STREAM,
    agent_id_for,
    group_name,
    heartbeat_key,
    inbox_stream,
    work_stream,
)
from agents.lease_keeper import LeaseKeeper
from agents.store_retry import TRANSIENT_TYPES, is_transient
from agents.task_stop import cancel_and_wait

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 10.0



@dataclass(frozen=True)
class WorkerSettings:
    """``lease_s`` outlives a PostgreSQL restart (renewals cannot reach it meanwhile) and is what
    a dead worker's task waits before another takes it; ``stall_limit_s`` is how long a loop may
    stand still before its process stops keeping its leases."""

    max_concurrent_tasks: int = 5
    heartbeat_interval_s: float = 1.0
    alive_ttl_s: float = 5.0
    reclaim_idle_ms: int = 5000
    max_attempts: int = 5
    block_ms: int = 200
    lease_s: float = 20.0
    renew_every_s: float = 2.0
    stall_limit_s: float = 120.0


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
        self.agent_id = agent_id or agent_id_for(agent.agent_type, uuid.uuid4().hex[:8])
        self.group = group_name(agent.agent_type)
        self.streams = [work_stream(agent.agent_type), inbox_stream(self.agent_id)]
        self.active: set[asyncio.Task[None]] = set()
        self.last_beat: float | None = None  # time.monotonic() of the last heartbeat both stores took
        self._running: dict[str, asyncio.Task[None]] = {}  # task id -> its handler, for lease loss
        self._lost: set[str] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self.keeper = LeaseKeeper(
            services.pool.dsn, lease_s=self.settings.lease_s, renew_every_s=self.settings.renew_every_s,
            stall_limit_s=self.settings.stall_limit_s, on_lost=self._lease_lost, name=f"{self.agent_id}-leases")

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
        self.keeper.start()
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._heartbeat_loop(), name=f"{self.agent_id}-heartbeat"),
            loop.create_task(self._consume_loop(), name=f"{self.agent_id}-consume"),
            loop.create_task(self._reclaim_loop(), name=f"{self.agent_id}-reclaim"),
            loop.create_task(self._tick_loop(), name=f"{self.agent_id}-tick"),
        ]

    async def stop(self, drain_timeout_s: float = 30.0) -> None:
        self._stopping.set()
        try:
            await registry.set_status(self.services.pool, self.agent_id, "shutting_down")
        except TRANSIENT_TYPES:
            pass
        if self.active:
            await asyncio.wait(self.active, timeout=drain_timeout_s)
        # Repeated and bounded: redis-py swallows a cancel that lands inside a command
        # (agents/task_stop.py), and a stuck handler must not hold shutdown for ever.
        await cancel_and_wait([*self._loops, *self.active], grace_s=CANCEL_GRACE_S, who=self.agent_id)
        await self.keeper.stop()
        try:
            await self.services.redis.delete(heartbeat_key(self.agent_id))
        except TRANSIENT_TYPES:
            pass

    # -- loops -----------------------------------------------------------------

    async def _ensure_groups(self) -> None:
        for stream in self.streams:
            await self.services.bus.ensure_group(stream, self.group)

    async def _beat(self) -> None:
        ttl_ms = int(self.settings.alive_ttl_s * 1000)
        await self.services.redis.set(heartbeat_key(self.agent_id), str(os.getpid()), px=ttl_ms)
        await registry.heartbeat(self.services.pool, self.agent_id, len(self.active))
        self.last_beat = time.monotonic()  # both stores took it: read by app/worker_probe.py

    @property
    def taking_work(self) -> bool:
        """Registered with a fresh heartbeat and not stopping: what a readiness probe asks."""
        fresh = self.last_beat is not None and time.monotonic() - self.last_beat < self.settings.alive_ttl_s
        return fresh and not self._stopping.is_set()

    async def _heartbeat_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._beat()
            except TRANSIENT_TYPES as exc:
                log.warning("%s: heartbeat failed (%s); retrying", self.agent_id, exc)
            await asyncio.sleep(self.settings.heartbeat_interval_s)

    # The loops below catch TRANSIENT_TYPES: store calls retry themselves (app/db.py ResilientPool,
    # the Redis client's retry), so what still arrives is a store away longer than that, and a loop
    # simply tries again on its next turn.

    async def _tick_loop(self) -> None:
        """Tells the lease keeper the loop still turns; nothing here waits on a store."""
        while not self._stopping.is_set():
            self.keeper.loop_alive()
            await asyncio.sleep(0.5)

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
            except TRANSIENT_TYPES as exc:
                log.warning("%s: bus unreachable (%s); retrying in 1 s", self.agent_id, exc)
                await asyncio.sleep(1.0)
                continue
            for message in messages:
                self._spawn(message)

    async def _reclaim_loop(self) -> None:
        """Pick up stream messages left pending by consumers that are gone.

        Only a wake-up: the PostgreSQL claim decides whether the task runs
        (a live holder's lease refuses it, and the message is acknowledged).
        """
        interval_s = max(self.settings.reclaim_idle_ms / 2000, 0.2)
        while not self._stopping.is_set():
            await asyncio.sleep(interval_s)
            for stream in self.streams[:1]:  # inboxes are personal; work streams are shared
                try:
                    claimed = await self.services.bus.reclaim(
                        stream, self.group, self.agent_id,
                        min_idle_ms=self.settings.reclaim_idle_ms, owner_alive=self._owner_alive,
                    )
                except ResponseError:
                    continue
                except TRANSIENT_TYPES:
                    continue
                for message in claimed:
                    log.info("%s picked up %s left by a consumer that is gone", self.agent_id, message.task_id)
                    self._spawn(message)

    async def _owner_alive(self, consumer: str) -> bool:
        return bool(await self.services.redis.exists(heartbeat_key(consumer)))

    # -- one task --------------------------------------------------------------

    def _spawn(self, message: Message) -> None:
        task = asyncio.get_running_loop().create_task(self._process(message))
        self.active.add(task)
        task.add_done_callback(self.active.discard)

    def _lease_lost(self, task_id: str) -> None:
        """The keeper found our lease gone: stop the handler; its result could not be written anyway."""
        handler = self._running.get(task_id)
        if handler is not None and not handler.done():
            self._lost.add(task_id)
            handler.cancel()

    async def _process(self, message: Message) -> None:
        pool = self.services.pool
        settings = self.settings
        token = tasks.new_lease_token()
        claimed = await tasks.claim(pool, message.task_id, self.agent_id, token,
                                    lease_s=settings.lease_s, max_attempts=settings.max_attempts)
        if claimed is None:  # finished already, held under a live lease, or out of attempts
            attempts = await tasks.exhaust(pool, message.task_id, settings.max_attempts)
            if attempts is not None:
                log.error("%s: task %s ran %d times without finishing; dead-lettered",
                          self.agent_id, message.task_id, attempts)
                await self._dead_letter(message.task_id, attempts)
            await self.services.bus.ack(message, self.group)
            return
        self.keeper.hold(message.task_id, token)
        ctx = TaskContext(self.services, self.agent_id, claimed)
        started = time.perf_counter()
        handler = asyncio.get_running_loop().create_task(self.agent.handle(ctx), name=f"handle-{message.task_id}")
        self._running[message.task_id] = handler
        result: dict[str, Any] = {}
        reason: str | None = None  # why it failed; None: it succeeded
        try:
            try:
                result = await handler
            finally:
                self.keeper.release(message.task_id)
        except asyncio.CancelledError:
            if message.task_id not in self._lost:
                handler.cancel()
                # Stopping without drain: the message stays pending for another instance, and the lease goes
                # back at once (shielded: this task is being cancelled; a store away only means it lapses).
                with contextlib.suppress(Exception):
                    await asyncio.shield(tasks.hand_back(pool, message.task_id, token))
                raise
            log.warning("%s: stopped %s, whose lease was lost", self.agent_id, message.task_id)
            await self.services.bus.ack(message, self.group)
            return
        except Exception as exc:  # noqa: BLE001 - every failure becomes the task's error
            reason = str(exc) if isinstance(exc, TaskFailed) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, TaskFailed):
                log.exception("%s: task %s crashed", self.agent_id, message.task_id)
        finally:
            self._running.pop(message.task_id, None)
            self._lost.discard(message.task_id)
        latency_ms = (time.perf_counter() - started) * 1000

        async def record_outcome(conn: Any) -> None:
            # The outcome and its metrics in one transaction: a kill between them would
            # otherwise leave a finished task without its tasks_completed row.
            if reason is None:
                done = await tasks.complete(conn, message.task_id, token, result, token_usage=ctx.tokens_used)
            else:
                done = await tasks.fail(conn, message.task_id, reason, token=token, token_usage=ctx.tokens_used)
            if done:  # fenced: a holder that lost its lease records nothing
                await metrics.record_task(conn, self.agent_id, message.task_id, ctx.attempt, reason is None,
                                          latency_ms)

        await pool.run(record_outcome)
        # Ack only now that the outcome is durable in Postgres. (The pool and the Redis client
        # retry these calls through a restart themselves.)
        await self.services.bus.ack(message, self.group)

    async def _dead_letter(self, task_id: str, attempts: int) -> None:
        try:
            await self.services.redis.xadd(DEAD_LETTER_STREAM, {"task_id": task_id, "attempts": str(attempts),
                                                                "agent_id": self.agent_id})
        except Exception as exc:  # noqa: BLE001 - the failed task in Postgres is the record; this is a copy
            if not is_transient(exc):
                raise


