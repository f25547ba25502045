"""Reporting: the request's result, with what it cost."""

from __future__ import annotations

from typing import Any

from agents.base import TaskContext


async def usage_of(pool: Any, root_task_id: str) -> tuple[int, float]:
    """Tokens and USD spent by the request's tasks (from task rows and gateway metrics)."""
    tokens = await pool.fetchval(
        "SELECT COALESCE(sum(token_usage), 0) FROM agent_tasks "
        "WHERE task_id = $1 OR payload->>'root_task_id' = $1", root_task_id)
    cost = await pool.fetchval(
        "SELECT COALESCE(sum((metadata->>'cost_usd')::float), 0) FROM agent_metrics m "
        "WHERE metric_type = 'token_usage' AND metadata ? 'cost_usd' AND metadata->>'task_id' IN "
        "(SELECT task_id FROM agent_tasks WHERE task_id = $1 OR payload->>'root_task_id' = $1)", root_task_id)
    return int(tokens), float(cost)


class ReportingAgent:
    agent_type = "reporting"
    capabilities = [{"name": "reporting", "version": "1.0.0"}]
    priority = 5

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        p = ctx.task["payload"]
        evolution = p["evolution"]
        files = evolution["files"]
        tests = "\n\n".join(f"# ===== {f['path']} =====\n{f['code']}" for f in files)
        coverage = evolution["coverage"]
        tokens, cost = await usage_of(ctx.services.pool, ctx.root_id)
        result = {
            "tests": tests,
            "files": {f["path"]: f["code"] for f in files},
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
            "failures": evolution["failures"],
            "baseline_coverage": (evolution.get("baseline") or {}).get("line_rate"),
            "token_usage": tokens,
            "cost_usd": round(cost, 6),
            "repository": p.get("repository"),
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
