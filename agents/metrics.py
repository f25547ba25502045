"""``agent_metrics`` rows: a task's outcome and latency, and one ``token_usage`` row per model call.

Tokens are written by the LLM gateway, call by call, with the model and the
cost; the task's total lives in ``agent_tasks.token_usage``. Writing that
total here too counted every token twice on the dashboard (issue 16).
Owns that table's SQL."""

from __future__ import annotations

from typing import Any

import asyncpg


async def record(
    db: asyncpg.Pool | asyncpg.Connection,
    agent_id: str,
    metric_type: str,
    value: float,
    metadata: dict[str, Any] | None = None,
    effect_key: str | None = None,
) -> None:
    """One row; with ``effect_key`` a second write of the same effect (a retried insert) is a no-op."""
    await db.execute(
        "INSERT INTO agent_metrics (agent_id, metric_type, metric_value, metadata, effect_key) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (effect_key) DO NOTHING",
        agent_id, metric_type, float(value), metadata or {}, effect_key,
    )


async def record_task(
    db: asyncpg.Pool | asyncpg.Connection, agent_id: str, task_id: str, attempt: int, ok: bool,
    latency_ms: float,
) -> None:
    """The task's outcome rows, keyed by task and attempt: written once however often this is retried."""
    meta = {"task_id": task_id, "attempt": attempt}
    outcome = "tasks_completed" if ok else "tasks_failed"
    await record(db, agent_id, outcome, 1, meta, effect_key=f"{task_id}:{attempt}:{outcome}")
    await record(db, agent_id, "latency_ms", latency_ms, meta, effect_key=f"{task_id}:{attempt}:latency_ms")


async def token_series(db: Any, hours: int) -> list[dict[str, float]]:
    """Tokens and cost per hour over the last ``hours``: ``{"t": epoch, "tokens": n, "cost": usd}``."""
    rows = await db.fetch(
        "SELECT extract(epoch FROM date_trunc('hour', timestamp)) AS t, sum(metric_value) AS tokens, "
        "sum(COALESCE((metadata->>'cost_usd')::float, 0)) AS cost FROM agent_metrics "
        "WHERE metric_type = 'token_usage' AND timestamp > (now() AT TIME ZONE 'utc') - make_interval(hours => $1) "
        "GROUP BY 1 ORDER BY 1", hours)
    return [{"t": float(r["t"]), "tokens": float(r["tokens"]), "cost": float(r["cost"])} for r in rows]


async def cost_per_day(db: Any, days: int = 14) -> list[tuple[float, float]]:
    rows = await db.fetch(
        "SELECT extract(epoch FROM date_trunc('day', timestamp)) AS t, "
        "sum(COALESCE((metadata->>'cost_usd')::float, 0)) AS cost FROM agent_metrics "
        "WHERE metric_type = 'token_usage' AND timestamp > (now() AT TIME ZONE 'utc') - make_interval(days => $1) "
        "GROUP BY 1 ORDER BY 1", days)
    return [(float(r["t"]), float(r["cost"])) for r in rows]


async def tokens_by_agent_type(db: Any) -> dict[str, float]:
    rows = await db.fetch(
        "SELECT r.agent_type, sum(m.metric_value) AS tokens FROM agent_metrics m "
        "JOIN agent_registry r USING (agent_id) WHERE m.metric_type = 'token_usage' GROUP BY 1")
    return {r["agent_type"]: float(r["tokens"]) for r in rows}


async def models_used(db: Any, days: int = 14) -> set[str]:
    rows = await db.fetch(
        "SELECT DISTINCT metadata->>'model' AS model FROM agent_metrics WHERE metric_type = 'token_usage' "
        "AND metadata ? 'model' AND timestamp > (now() AT TIME ZONE 'utc') - make_interval(days => $1)", days)
    return {r["model"] for r in rows if r["model"]}
