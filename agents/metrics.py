"""``agent_metrics`` rows: one per finished task, plus token usage. Owns that table's SQL."""

from __future__ import annotations

from typing import Any

import asyncpg


async def record(
    db: asyncpg.Pool | asyncpg.Connection,
    agent_id: str,
    metric_type: str,
    value: float,
    metadata: dict[str, Any] | None = None,
) -> None:
    await db.execute(
        "INSERT INTO agent_metrics (agent_id, metric_type, metric_value, metadata) VALUES ($1, $2, $3, $4)",
        agent_id, metric_type, float(value), metadata or {},
    )


async def record_task(
    db: asyncpg.Pool | asyncpg.Connection, agent_id: str, task_id: str, ok: bool, latency_ms: float, tokens: int
) -> None:
    meta = {"task_id": task_id}
    await record(db, agent_id, "tasks_completed" if ok else "tasks_failed", 1, meta)
    await record(db, agent_id, "latency_ms", latency_ms, meta)
    if tokens:
        await record(db, agent_id, "token_usage", tokens, meta)
