"""``agent_tasks``: the truth about every task. Owns that table's SQL.

Exactly-once completion: a task is *claimed* atomically (pending →
in_progress with the claimant as ``assigned_agent_id``), and only its
current assignee may complete or fail it. A worker killed mid-task never
completes; a slow one whose task was reclaimed finds its completion
refused. Redis may deliver a message twice; Postgres lets it finish once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

DB = asyncpg.Pool | asyncpg.Connection


def new_task_id() -> str:
    return f"task-{uuid.uuid4().hex[:16]}"


async def create(
    db: DB,
    task_type: str,
    payload: dict[str, Any],
    *,
    conversation_id: str | None = None,
    priority: int = 5,
    task_id: str | None = None,
) -> str:
    task_id = task_id or new_task_id()
    await db.execute(
        "INSERT INTO agent_tasks (task_id, task_type, payload, status, priority, conversation_id) "
        "VALUES ($1, $2, $3, 'pending', $4, $5)",
        task_id, task_type, payload, priority, conversation_id,
    )
    return task_id


async def claim(db: DB, task_id: str, agent_id: str, *, reclaim: bool = False) -> dict[str, Any] | None:
    """Take the task; None if it is not (or no longer) ours to run.

    ``reclaim`` also takes a task in progress under another agent: the bus
    only offers that after the other agent's heartbeat expired.
    """
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'in_progress', assigned_agent_id = $2, "
        "started_at = (now() AT TIME ZONE 'utc') "
        "WHERE task_id = $1 AND (status = 'pending' OR ($3 AND status = 'in_progress' "
        "AND assigned_agent_id IS DISTINCT FROM $2)) RETURNING *",
        task_id, agent_id, reclaim,
    )
    return dict(row) if row else None


async def complete(
    db: DB, task_id: str, agent_id: str, result: dict[str, Any], *, token_usage: int = 0
) -> bool:
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'completed', result = $3, token_usage = $4, error = NULL, "
        "completed_at = (now() AT TIME ZONE 'utc'), "
        "execution_time_seconds = EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'utc') - started_at)) "
        "WHERE task_id = $1 AND status = 'in_progress' AND assigned_agent_id = $2 RETURNING task_id",
        task_id, agent_id, result, token_usage,
    )
    return row is not None


async def fail(db: DB, task_id: str, error: str, *, agent_id: str | None = None, token_usage: int = 0) -> bool:
    """Fail the task; with ``agent_id``, only if that agent still holds it."""
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'failed', error = $2, token_usage = $4, "
        "completed_at = (now() AT TIME ZONE 'utc'), "
        "execution_time_seconds = EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'utc') - started_at)) "
        "WHERE task_id = $1 AND status IN ('pending', 'in_progress') "
        "AND ($3::text IS NULL OR assigned_agent_id = $3) RETURNING task_id",
        task_id, error, agent_id, token_usage,
    )
    return row is not None


async def get(db: DB, task_id: str) -> dict[str, Any] | None:
    row = await db.fetchrow("SELECT * FROM agent_tasks WHERE task_id = $1", task_id)
    return dict(row) if row else None


async def children(db: DB, parent_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT * FROM agent_tasks WHERE payload->>'parent_task_id' = $1 ORDER BY created_at", parent_id
    )
    return [dict(r) for r in rows]


async def stale(db: DB, pending_after_s: float) -> list[dict[str, Any]]:
    """Tasks to re-dispatch: pending too long, or in progress under a silent agent."""
    rows = await db.fetch(
        "SELECT t.task_id, t.task_type, t.status, t.assigned_agent_id FROM agent_tasks t "
        "LEFT JOIN agent_registry r ON r.agent_id = t.assigned_agent_id "
        "WHERE (t.status = 'pending' AND t.created_at < (now() AT TIME ZONE 'utc') - make_interval(secs => $1)) "
        "OR (t.status = 'in_progress' AND (r.agent_id IS NULL OR r.status <> 'healthy'))",
        pending_after_s,
    )
    return [dict(r) for r in rows]


async def release(db: DB, task_id: str, from_agent: str) -> bool:
    """Put an orphaned in-progress task back to pending (its agent is gone)."""
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'pending', assigned_agent_id = NULL, started_at = NULL "
        "WHERE task_id = $1 AND status = 'in_progress' AND assigned_agent_id = $2 RETURNING task_id",
        task_id, from_agent,
    )
    return row is not None


def public(task: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in task.items()}


async def children_of_root(db: DB, root_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT * FROM agent_tasks WHERE payload->>'root_task_id' = $1 ORDER BY created_at", root_id)
    return [dict(r) for r in rows]
