"""Orchestration: plans a generation request and runs it through the other agents.

Steps go out as tasks on the streams (never direct calls) and their
outcomes are read back from Postgres: observe, then requirements and
analysis in parallel, then evolve, then report.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

from agents.base import TaskContext, TaskFailed
from agents.coverage_union import static_size
from agents.evolve_task import EvolveTask
from agents.kept_together import run_together
from agents.merged_evolution import ModuleOutcome, held_together, merged
from agents.wall_budget import WallBudget
from agents.whole_repository import left_to_cover, split_budget
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
        wall = WallBudget.of(time.time(), plan.search_time_s)  # the result is due then (agents/wall_budget.py)
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
        task = EvolveTask(plan, Path(observed["repository"]), observed["target_files"], observed["interpreter"],
                          list(requirements.get("checklist") or []), analysis)
        if plan.whole_repository and len(task.target_files) > 1:
            # Not bound by the wall: the modules' shares follow what is left to cover, and how many run
            # at once depends on the evolution workers that are up.
            evolved = await self._evolve_each(ctx, phases, task)
        else:
            evolved = await self._step(ctx, "evolve", phases,
                                       dataclasses.replace(task, due_at=wall.due_at).payload())
        report = await self._step(ctx, "report", phases, {
            "evolution": evolved, "coverage_target": plan.coverage_target,
            "repository": observed["repository"], "repository_url": plan.repository_url})
        report["added_dependencies"] = list(observed.get("added_dependencies") or [])  # said, with why
        report["execution_time_seconds"] = round(time.perf_counter() - started, 3)
        report["phase_seconds"] = {name: round(seconds, 2) for name, seconds in phases.items()}
        return report

    async def _evolve_each(self, ctx: TaskContext, phases: dict[str, float], task: EvolveTask) -> dict[str, Any]:
        """A whole repository: one evolve step per module, all at once, each with its share of the budget.

        The steps go out on the evolution stream together, so every evolution worker that is up
        takes some (more workers, more modules at once); the shares follow what is left to cover.
        """
        started = time.perf_counter()
        plan = task.request
        left = await asyncio.to_thread(left_to_cover, task.repository, task.target_files, task.baseline)
        searching = (plan.strategy or ("llm" if ctx.services.gateway is not None else "search")) == "search"
        budget = split_budget(left, plan.search_time_s, searching=searching)
        await ctx.progress(f"Whole repository, {len(task.target_files)} module(s): {budget.note}")
        if not budget.shares:
            raise TaskFailed("The repository's own tests already run every statement of the modules without "
                             "tests of their own; nothing is left to cover.")
        ids = [await ctx.delegate("evolve", dataclasses.replace(
                   task, request=plan.model_copy(update={"search_time_s": share.search_s}),
                   target_files=[share.target]).payload(), step=f"evolve.{index}")
               for index, share in enumerate(budget.shares)]
        dones = await asyncio.gather(*(ctx.wait(task_id) for task_id in ids))
        phases["evolve"] = time.perf_counter() - started
        sizes = await asyncio.to_thread(lambda: {s.target: static_size(task.repository / s.target)
                                                 for s in budget.shares})
        parts = [ModuleOutcome(share.target, done["result"] if done["status"] == "completed" else None,
                               None if done["status"] == "completed" else str(done.get("error")), sizes[share.target])
                 for share, done in zip(budget.shares, dones)]
        if not any(part.result for part in parts):
            raise TaskFailed("No test kept for any module: " + "; ".join(f"{p.target}: {p.error}" for p in parts[:5]))
        result = merged(parts, budget, plan.coverage_target, task.baseline)
        if ctx.services.phase2 is not None and len(result["files"]) > 1:
            await ctx.progress(f"Running the {len(result['files'])} kept files together, in order and reversed…")
            together = await run_together(ctx.services.phase2, task.repository,
                                          {f["path"]: f["code"] for f in result["files"]},
                                          [p.target for p in parts], task.baseline)
            result = held_together(result, together, plan.coverage_target)
            if not result["files"]:
                raise TaskFailed("No test kept: every kept test failed when the kept files ran together: "
                                 + "; ".join(together.dropped[:3]))
        return result

    async def _step(self, ctx: TaskContext, task_type: str, phases: dict[str, float],
                    payload: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        task_id = await ctx.delegate(task_type, payload)
        done = await ctx.wait(task_id)
        phases[task_type] = time.perf_counter() - started
        if done["status"] != "completed":
            raise TaskFailed(f"{task_type} failed: {done['error']}")
        return done["result"]
