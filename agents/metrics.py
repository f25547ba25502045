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
