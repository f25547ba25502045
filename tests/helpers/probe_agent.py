"""An agent for fault tests, run by real ``aiwebtest worker --agent-class`` processes.

Each execution records itself in ``probe_runs`` (plain inserts: a second
execution of a task shows as a second row, with the pid that ran it), then
does what its payload says: await (``sleep_s``) and/or hold the loop
(``block_s``, CPU work on the loop, the case issue 12 measured). Its side
effect is one working-memory note keyed by task and attempt, and a
progress message. The test's own ``probe_runs`` table must exist.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from agents.base import TaskContext


class ProbeAgent:
    agent_type = "probe"
    capabilities = [{"name": "fault-probe", "version": "1.0.0"}]
    priority = 1

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        payload = ctx.task["payload"]
        await ctx.services.pool.execute(
            "INSERT INTO probe_runs (task_id, attempt, agent_id, pid) VALUES ($1, $2, $3, $4)",
            ctx.task_id, ctx.attempt, ctx.agent_id, os.getpid())
        await asyncio.sleep(float(payload.get("sleep_s", 0)))
        if payload.get("block_s"):
            time.sleep(float(payload["block_s"]))  # noqa: ASYNC251 - what is tested: a held loop
        await ctx.services.memory.remember(ctx.agent_id, f"probe {ctx.task_id} done", conversation_id=None,
                                           metadata={"task_id": ctx.task_id, "kind": "probe"},
                                           effect_key=ctx.effect_key("note"))
        await ctx.progress("probe done")
        return {"pid": os.getpid(), "attempt": ctx.attempt}
