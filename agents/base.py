"""What an agent is, and what it may use while handling a task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import redis.asyncio as aioredis

from agents import tasks
from agents.bus import Bus
from agents.constants import PROGRESS_CHANNEL_PREFIX, TASK_HANDLERS, work_stream
from agents.store_retry import is_transient


class TaskFailed(Exception):
    """A task cannot be done; the message is the reason shown to the user."""


@dataclass
class Services:
    """Shared resources agents use; built once per process by ``app``.

    ``phase2`` runs a test through the Phase 2 engine (in-process or over
    HTTP); ``gateway`` is the LLM gateway or None; ``memory`` the working
    memory; ``workspace`` where repositories are cloned.
    """

    pool: asyncpg.Pool
    redis: aioredis.Redis
    workspace: Path
    phase2: Any = None
    gateway: Any = None
    memory: Any = None
    pynguin: Any = None
    crosshair: Any = None  # agents.generation.symbolic.CrossHairRunner, or None: not in the portfolio
    envs: Any = None  # engine.repo_env.RepoEnvironments: the repository's dependencies
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bus(self) -> Bus:
        return Bus(self.redis)


@dataclass
class TaskContext:
    """Per-task view: who runs it, and how to hand work on."""

    services: Services
    agent_id: str
    task: dict[str, Any]
    tokens_used: int = 0

    @property
    def task_id(self) -> str:
        return self.task["task_id"]

    @property
    def attempt(self) -> int:
        """Which execution of the task this is (1 unless an earlier holder died or stalled)."""
        return int(self.task.get("attempts") or 1)

    def effect_key(self, kind: str) -> str:
        """Key for a write this handler makes: the same write again in this attempt is a no-op."""
        return f"{self.task_id}:{self.attempt}:{kind}"

    @property
    def root_id(self) -> str:
        return self.task["payload"].get("root_task_id") or self.task_id

    async def progress(self, message: str, **data: Any) -> None:
        """Tell whoever watches the request (CLI, UI) what happens now, and keep it in its run log."""
        import json

        from agents import run_log

        await run_log.append(self.services.pool, self.root_id, self.agent_id, message, attempt=self.attempt,
                             data=data or None)
        try:
            await self.services.redis.publish(
                PROGRESS_CHANNEL_PREFIX + self.root_id,
                json.dumps({"agent_id": self.agent_id, "task_id": self.task_id, "attempt": self.attempt,
                            "message": message, **data}),
            )
        except Exception:  # noqa: BLE001 - progress is best effort; the task is not
            pass

    async def live(self, message: str, **data: Any) -> None:
        """A passing state (a model's answer growing): shown to whoever watches, not kept in the run log."""
        import json

        try:
            await self.services.redis.publish(
                PROGRESS_CHANNEL_PREFIX + self.root_id,
                json.dumps({"agent_id": self.agent_id, "task_id": self.task_id, "attempt": self.attempt,
                            "message": message, "live": True, **data}),
            )
        except Exception:  # noqa: BLE001 - best effort
            pass

    async def delegate(self, task_type: str, payload: dict[str, Any], *, step: str | None = None) -> str:
        """Hand a step to another agent type through the streams (never a direct call).

        The child's id is this task's id plus the step, so a re-run of this
        task after a crash finds the child it made before (finished or
        still running) instead of starting the work again.
        """
        payload = {**payload, "parent_task_id": self.task_id, "root_task_id": self.root_id}
        return await dispatch(self.services.pool, self.services.bus, task_type, payload,
                              conversation_id=self.task.get("conversation_id"),
                              task_id=f"{self.task_id}.{step or task_type}")

    async def wait(self, task_id: str, timeout_s: float = 3600) -> dict[str, Any]:
        """Wait for a delegated task's outcome in Postgres (the truth)."""
        return await wait_for_task(self.services.pool, task_id, timeout_s)


class Agent(Protocol):
    agent_type: str
    capabilities: list[dict[str, str]]
    priority: int

    async def handle(self, ctx: TaskContext) -> dict[str, Any]: ...


async def dispatch(
    pool: asyncpg.Pool, bus: Bus, task_type: str, payload: dict[str, Any], *, conversation_id: str | None = None,
    task_id: str | None = None,
) -> str:
    """Create the task in Postgres, then announce it on its type's stream.

    If Redis is down at that moment the task stays pending and the
    reconciler announces it again later: nothing is lost.
    """
    task_id = await tasks.create(pool, task_type, payload, conversation_id=conversation_id, task_id=task_id)
    try:
        await bus.send(work_stream(TASK_HANDLERS[task_type]), task_id)
    except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
        pass
    return task_id


async def wait_for_task(
    pool: asyncpg.Pool, task_id: str, timeout_s: float = 3600, poll_s: float = 0.1,
    on_poll: Callable[[], Awaitable[None]] | None = None, max_poll_s: float = 1.0,
) -> dict[str, Any]:
    """The task once finished. Polls from ``poll_s`` up to ``max_poll_s`` apart: a hundred
    orchestrations waiting on long steps must not keep the database busy answering them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            task = await tasks.get(pool, task_id)
        except Exception as exc:
            if not is_transient(exc):
                raise
            task = None  # Postgres restarting: keep waiting
        if task is not None and task["status"] in ("completed", "failed"):
            return task
        if loop.time() > deadline:
            raise TaskFailed(f"task {task_id} did not finish within {timeout_s:.0f} s")
        if on_poll is not None:
            await on_poll()
        await asyncio.sleep(poll_s)
        poll_s = min(poll_s * 1.5, max_poll_s)
