"""Orchestration: plans a generation request and runs it through the other agents.

Steps go out as tasks on the streams (never direct calls) and their
outcomes are read back from Postgres: observe, then requirements and
analysis in parallel, then evolve, then report.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from agents.base import TaskContext, TaskFailed
from agents.evolve_task import EvolveTask
from engine.errors import InputError
from engine.generate_request import GenerateRequest

# The steps a generation request goes through, each a child task "<root id>.<step>" (agents/base.py delegate).
STEPS = ("observe", "requirements", "analyze", "evolve", "report")


class OrchestrationAgent:
    agent_type = "orchestration"
    capabilities = [{"name": "planning", "version": "1.0.0"}, {"name": "coordination", "version": "1.0.0"}]
    priority = 10

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        phases: dict[str, float] = {}  # seconds per step, in the report (local: requests run concurrently)
        p = ctx.task["payload"]
        try:
            plan = GenerateRequest.from_payload(p)
        except InputError as exc:
            raise TaskFailed(str(exc)) from None
        started = time.perf_counter()
        await ctx.progress("Planning: observe, requirements + analysis, evolve, report")
        observed = await self._step(ctx, "observe", phases, {
            "repository_url": plan.repository_url, "target_files": plan.target_files})
        # The URL too: a step on another machine (a cluster's pod) checks it out there (agents/repository_here.py).
        common = {"repository": observed["repository"], "repository_url": plan.repository_url,
                  "target_files": observed["target_files"], "test_files": observed["test_files"],
                  "interpreter": observed["interpreter"]}
        requirements, analysis = await asyncio.gather(
            self._step(ctx, "requirements", phases, {**common, "requirements": plan.requirements}),
            self._step(ctx, "analyze", phases, common),
        )
        evolved = await self._step(ctx, "evolve", phases, EvolveTask(
            plan, Path(observed["repository"]), observed["target_files"], observed["interpreter"],
            list(requirements.get("checklist") or []), analysis).payload())
        report = await self._step(ctx, "report", phases, {
            "evolution": evolved, "coverage_target": plan.coverage_target,
            "repository": observed["repository"], "repository_url": plan.repository_url})
        report["execution_time_seconds"] = round(time.perf_counter() - started, 3)
        report["phase_seconds"] = {name: round(seconds, 2) for name, seconds in phases.items()}
        return report

    async def _step(self, ctx: TaskContext, task_type: str, phases: dict[str, float],
                    payload: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        task_id = await ctx.delegate(task_type, payload)
        done = await ctx.wait(task_id)
        phases[task_type] = time.perf_counter() - started
        if done["status"] != "completed":
            raise TaskFailed(f"{task_type} failed: {done['error']}")
        return done["result"]
