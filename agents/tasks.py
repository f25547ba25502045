"""``agent_tasks``: the truth about every task. Owns that table's SQL.

Exactly-once completion: a task is *claimed* atomically under a lease
(pending → in_progress with a fresh ``lease_token`` and an expiry), and
only the holder of the current token may complete or fail it (fencing).
The holder renews its lease from a thread of its own
(``agents/lease_keeper.py``), so a busy handler keeps it; a task is taken
again only after its lease expired, that is after its worker died or
stalled. A worker killed mid-task never completes; one that lost its
lease finds its completion refused. Redis may deliver a message twice;
Postgres lets it run under one live lease and finish once.
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
    """Insert the task; an existing ``task_id`` is left as it is (a retried or re-run step)."""
    task_id = task_id or new_task_id()
    await db.execute(
        "INSERT INTO agent_tasks (task_id, task_type, payload, status, priority, conversation_id) "
        "VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (task_id) DO NOTHING",
        task_id, task_type, payload, priority, conversation_id,
    )
    return task_id


def new_lease_token() -> str:
    return uuid.uuid4().hex


async def claim(db: DB, task_id: str, agent_id: str, token: str, *, lease_s: float,
                max_attempts: int) -> dict[str, Any] | None:
    """Take the task under a new lease; None if it is not ours to run now.

    Claimable: pending, or in progress under a lease that expired (its
    holder stopped renewing, so it died or its process stalled). A live
    holder's task is never taken. ``attempts`` counts executions; a task
    that already ran ``max_attempts`` times is left for ``exhaust``.

    Idempotent per token: a retry after a lost reply (the UPDATE committed,
    the answer did not arrive) finds the row already ours and returns it.
    """
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'in_progress', assigned_agent_id = $2, lease_token = $3, "
        "lease_expires_at = now() + make_interval(secs => $4), attempts = attempts + 1, "
        "started_at = (now() AT TIME ZONE 'utc') "
        "WHERE task_id = $1 AND attempts < $5 AND (status = 'pending' "
        "OR (status = 'in_progress' AND lease_expires_at < now())) RETURNING *",
        task_id, agent_id, token, lease_s, max_attempts,
    )
    if row is None:
        row = await db.fetchrow(
            "SELECT * FROM agent_tasks WHERE task_id = $1 AND status = 'in_progress' AND lease_token = $2",
            task_id, token)
    return dict(row) if row else None


async def exhaust(db: DB, task_id: str, max_attempts: int) -> int | None:
    """Fail a task that ran ``max_attempts`` times without finishing; its executions, or None.

    Only a task nobody holds: pending, or under an expired lease.
    """
    return await db.fetchval(
        "UPDATE agent_tasks SET status = 'failed', lease_token = NULL, "
        "error = format('ran %s times without finishing (its worker died or stalled each time); '"
        "'moved to the dead-letter stream', attempts), "
        "completed_at = (now() AT TIME ZONE 'utc') "
        "WHERE task_id = $1 AND attempts >= $2 AND (status = 'pending' "
        "OR (status = 'in_progress' AND lease_expires_at < now())) RETURNING attempts",
        task_id, max_attempts,
    )


async def hand_back(db: DB, task_id: str, token: str) -> bool:
    """A stopping worker gives its lease up now instead of letting it lapse: the lease expires at once, so the
    reconciler announces the task again on its next pass (2 s) rather than after ``lease_s`` (SIGTERM in a pod,
    deploy/k8s/). Only under our own token: a task taken over meanwhile is not touched."""
    row = await db.fetchval(
        "UPDATE agent_tasks SET lease_expires_at = now() - interval '1 second' "
        "WHERE task_id = $1 AND lease_token = $2 AND status = 'in_progress' RETURNING task_id", task_id, token)
    return row is not None


async def renew(db: DB, leases: dict[str, str], lease_s: float) -> set[str]:
    """Extend the leases held (task id -> token); return the task ids still held.

    A task missing from the answer was lost: finished elsewhere, failed by
    an operator, or taken after the lease expired.
    """
    if not leases:
        return set()
    rows = await db.fetch(
        "UPDATE agent_tasks t SET lease_expires_at = now() + make_interval(secs => $3) "
        "FROM unnest($1::text[], $2::text[]) AS held(task_id, token) "
        "WHERE t.task_id = held.task_id AND t.lease_token = held.token AND t.status = 'in_progress' "
        "RETURNING t.task_id",
        list(leases), list(leases.values()), lease_s,
    )
    return {r["task_id"] for r in rows}


async def complete(
    db: DB, task_id: str, token: str, result: dict[str, Any], *, token_usage: int = 0
) -> bool:
    """Finish the task; only the holder of the current lease token may (fencing)."""
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'completed', result = $3, token_usage = $4, error = NULL, "
        "lease_token = NULL, completed_at = (now() AT TIME ZONE 'utc'), "
        "execution_time_seconds = EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'utc') - started_at)) "
        "WHERE task_id = $1 AND status = 'in_progress' AND lease_token = $2 RETURNING task_id",
        task_id, token, result, token_usage,
    )
    return row is not None


async def attach_result(db: DB, task_id: str, result: dict[str, Any]) -> None:
    """A result for a task that ended without one (cancelled): what it had done until then."""
    await db.execute("UPDATE agent_tasks SET result = $2 WHERE task_id = $1 AND result IS NULL", task_id, result)


async def fail(db: DB, task_id: str, error: str, *, token: str | None = None, token_usage: int = 0) -> bool:
    """Fail the task; with ``token``, only if that lease still holds it (fencing)."""
    row = await db.fetchrow(
        "UPDATE agent_tasks SET status = 'failed', error = $2, token_usage = $4, lease_token = NULL, "
        "completed_at = (now() AT TIME ZONE 'utc'), "
        "execution_time_seconds = EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'utc') - started_at)) "
        "WHERE task_id = $1 AND status IN ('pending', 'in_progress') "
        "AND ($3::text IS NULL OR lease_token = $3) RETURNING task_id",
        task_id, error, token, token_usage,
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
    """Tasks to announce again: pending too long, or in progress under an expired lease."""
    rows = await db.fetch(
        "SELECT task_id, task_type, status, attempts FROM agent_tasks "
        "WHERE (status = 'pending' AND created_at < (now() AT TIME ZONE 'utc') - make_interval(secs => $1)) "
        "OR (status = 'in_progress' AND lease_expires_at < now())",
        pending_after_s,
    )
    return [dict(r) for r in rows]


def public(task: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in task.items()}


async def children_of_root(db: DB, root_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT * FROM agent_tasks WHERE payload->>'root_task_id' = $1 ORDER BY created_at", root_id)
    return [dict(r) for r in rows]


async def recent_of_agent(db: DB, agent_id: str, limit: int = 30) -> list[dict[str, Any]]:
    """The latest tasks one agent took, newest first (the Agents view's detail)."""
    rows = await db.fetch(
        "SELECT task_id, task_type, status, error, execution_time_seconds, created_at FROM agent_tasks "
        "WHERE assigned_agent_id = $1 ORDER BY created_at DESC LIMIT $2", agent_id, limit)
    return [dict(r) for r in rows]


async def generate_latency(db: DB) -> tuple[float | None, float | None]:
    """(p50, p95) seconds of finished ``generate`` tasks: the agents' end-to-end latency."""
    row = await db.fetchrow(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY execution_time_seconds) AS p50, "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_seconds) AS p95 "
        "FROM agent_tasks WHERE task_type = 'generate' AND status IN ('completed', 'failed')")
    return row["p50"], row["p95"]
