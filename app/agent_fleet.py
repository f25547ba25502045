"""The Agents view's service: every registered agent with its health, its recent tasks, and
starting or stopping an instance in this process."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import asyncpg

from agents import registry, tasks
from agents.constants import AGENT_TYPES
from engine.errors import AppError, require


class AgentFleetService:
    def __init__(self, pool: asyncpg.Pool | None, host: Any | None) -> None:
        """``pool`` None: the services are stopped, and each call says so. ``host``: this process's
        ``AgentsHost`` (None when no agent runs here)."""
        self._pool = pool
        self.host = host

    @property
    def pool(self) -> asyncpg.Pool:
        return require(self._pool)  # type: ignore[return-value]

    async def agents(self) -> list[dict[str, Any]]:
        now = time.time()
        local = {w.agent_id for w in (self.host.workers if self.host else [])}
        out = []
        for r in await registry.list_agents(self.pool):
            beat = (r["health"] or {}).get("last_heartbeat")
            age = now - datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp() if beat else None
            out.append({"agent_id": r["agent_id"], "agent_type": r["agent_type"], "status": r["status"],
                        "capabilities": [c.get("name", "") for c in r["capabilities"]],
                        "active_tasks": (r["health"] or {}).get("active_tasks", 0),
                        "completed_today": r["tasks_completed_today"], "heartbeat_age_s": age,
                        # Silent past the grace period: listed greyed, left out of availability.
                        "gone": r["status"] != "healthy" and (age is None or age > registry.DEAD_GRACE_S),
                        "local": r["agent_id"] in local, "pid": (r["endpoints"] or {}).get("pid")})
        return out

    async def agent_detail(self, agent_id: str) -> dict[str, Any]:
        recent = await tasks.recent_of_agent(self.pool, agent_id)
        return {"tasks": recent, "errors": [r for r in recent if r["error"]]}

    async def start_instance(self, agent_type: str) -> str:
        if self.host is None:
            raise AppError("Agents are not running in this process.")
        if agent_type not in AGENT_TYPES:
            raise AppError(f"Unknown agent type {agent_type!r}.")
        return (await self.host.add_instance(agent_type)).agent_id

    async def stop_instance(self, agent_id: str) -> None:
        worker = next((w for w in (self.host.workers if self.host else []) if w.agent_id == agent_id), None)
        if worker is None:
            raise AppError(f"{agent_id} runs in another process; stop it there (aiwebtest worker).")
        await worker.stop()
        self.host.workers.remove(worker)
