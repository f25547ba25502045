"""Reporting: the request's result, with what it cost."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.base import TaskContext
from agents.generation.import_root import importable_once
from agents.repository_here import repository_here
from engine import multi_file

_USAGE = ("SELECT COALESCE(sum(metric_value), 0) AS tokens, COALESCE(sum((metadata->>'cost_usd')::float), 0) AS cost, "
          "array_remove(array_agg(DISTINCT CASE WHEN metadata ? 'unpriced' THEN metadata->>'model' END), NULL) "
          "AS unpriced FROM agent_metrics WHERE metric_type = 'token_usage' AND metadata->>'task_id' IN ")


async def usage_of(pool: Any, root_task_id: str) -> tuple[int, float, list[str]]:
    """Tokens, USD and unpriced models of the request's model calls, from the gateway's rows: the same
    figures the budget and the dashboard count, including calls whose answers were of no use and
    attempts that timed out after the server read the prompt."""
    row = await pool.fetchrow(_USAGE + "(SELECT task_id FROM agent_tasks WHERE task_id = $1 OR "
                              "payload->>'root_task_id' = $1)", root_task_id)
    return int(row["tokens"]), float(row["cost"]), sorted(row["unpriced"] or [])


async def usage_of_call_id(pool: Any, task_id: str) -> tuple[int, float, list[str]]:
    """The same for calls made under one id outside the agents (a Phase 2 single-shot request)."""
    row = await pool.fetchrow(_USAGE + "($1)", task_id)
    return int(row["tokens"]), float(row["cost"]), sorted(row["unpriced"] or [])


def cost_note(unpriced: list[str]) -> str:
    """Said wherever a cost is shown: an unpriced model is not free."""
    if not unpriced:
        return ""
    return f"cost unknown for {', '.join(unpriced)}: add a price (Settings panel, llm_prices)"


class ReportingAgent:
    agent_type = "reporting"
    capabilities = [{"name": "reporting", "version": "1.0.0"}]
    priority = 5

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        p = ctx.task["payload"]
        evolution = p["evolution"]
        files = evolution["files"]
        # One tests/conftest.py instead of a sys.path line atop every file (agents/generation/import_root.py).
        written = {f["path"]: f["code"] for f in files}
        if p.get("repository"):
            repo = await repository_here(p["repository"], p.get("repository_url"), ctx.services)
            written = await asyncio.to_thread(importable_once, repo, written,
                                              [f["target_file"] for f in files if f.get("target_file")])
        tests = multi_file.join(written)
        coverage = evolution["coverage"]
        tokens, cost, unpriced = await usage_of(ctx.services.pool, ctx.root_id)
        result = {
            "tests": tests,
            "files": written,
            "coverage_estimate": round(coverage["line_rate"], 4),
            "branch_coverage": round(coverage["branch_rate"], 4),
            "coverage_by_file": coverage["files"],
            "coverage_target": p.get("coverage_target"),
            "test_count": sum(f["test_count"] for f in files),
            "strategy": evolution["strategy"],
            "rounds": evolution["rounds"],
            "stop_reason": evolution["stop_reason"],
            # complete | partial (below target when the budget ran out) | met (existing tests suffice)
            "outcome": evolution.get("outcome", "complete"),
            "reason": evolution.get("reason", ""),
            "generators": evolution.get("generators", []),
            "mutation": evolution.get("mutation"),
            # per file, with a model: whether the readability rewrite was kept, or why not
            "polish": {f["path"]: f["polish"] for f in files if f.get("polish")},
            # per search or CrossHair file: what distillation did, or why the file stayed as generated
            "distil": {f["path"]: f["distil"] for f in files if f.get("distil")},
            "failures": evolution["failures"],
            "baseline_coverage": (evolution.get("baseline") or {}).get("line_rate"),
            "token_usage": tokens,
            "cost_usd": round(cost, 6),
            "unpriced_models": unpriced,
            "cost_note": cost_note(unpriced),
            "repository": p.get("repository"),
            **({"modules": evolution["modules"]} if evolution.get("modules") else {}),  # a whole repository's
        }
        memory = ctx.services.memory
        conversation = ctx.task.get("conversation_id")
        if memory is not None and conversation:
            uncovered = {f["path"]: f["missing_lines"][:30] for f in coverage["files"] if f["missing_lines"]}
            await memory.remember(
                ctx.agent_id,
                f"Generated {result['test_count']} tests ({result['strategy']}) reaching "
                f"{result['coverage_estimate']:.0%} line coverage; files {', '.join(result['files'])}; "
                f"still uncovered lines: {uncovered}",
                conversation_id=conversation, importance=0.9,
                metadata={"task_id": ctx.root_id, "kind": "result"}, effect_key=ctx.effect_key("memory"),
            )
        await ctx.progress(f"{result['test_count']} tests, {result['coverage_estimate']:.1%} line coverage")
        return result
