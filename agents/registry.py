"""``agent_registry``: who is there, healthy or not. Owns that table's SQL.

Liveness has two sources on purpose: the registry row (for people and the
API, updated each heartbeat) and a Redis key with a short TTL (for the
bus, which must decide fast whether a message's owner is still alive).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import asyncpg

DB = asyncpg.Pool | asyncpg.Connection


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


async def register(
    db: DB,
    *,
    agent_id: str,
    agent_type: str,
    capabilities: list[dict[str, str]],
    priority: int,
    inbox: str,
    max_concurrent_tasks: int,
    host: str,
    pid: int,
) -> None:
    await db.execute(
        "INSERT INTO agent_registry (agent_id, agent_type, status, capabilities, priority, endpoints, health, "
        "constraints) VALUES ($1, $2, 'healthy', $3, $4, $5, $6, $7) "
        "ON CONFLICT (agent_id) DO UPDATE SET status = 'healthy', capabilities = EXCLUDED.capabilities, "
        "priority = EXCLUDED.priority, endpoints = EXCLUDED.endpoints, health = EXCLUDED.health, "
        "constraints = EXCLUDED.constraints, updated_at = CURRENT_TIMESTAMP",
        agent_id, agent_type, capabilities, priority,
        {"inbox_stream": inbox, "host": host, "pid": pid},
        {"last_heartbeat": _now_iso(), "active_tasks": 0},
        {"max_concurrent_tasks": max_concurrent_tasks},
    )


async def heartbeat(db: DB, agent_id: str, active_tasks: int) -> None:
    await db.execute(
        "UPDATE agent_registry SET health = $2, status = CASE WHEN status = 'unhealthy' THEN 'healthy' "
        "ELSE status END, updated_at = CURRENT_TIMESTAMP WHERE agent_id = $1",
        agent_id, {"last_heartbeat": _now_iso(), "active_tasks": active_tasks},
    )


async def set_status(db: DB, agent_id: str, status: str) -> None:
    await db.execute(
        "UPDATE agent_registry SET status = $2, updated_at = CURRENT_TIMESTAMP WHERE agent_id = $1",
        agent_id, status,
    )


async def mark_silent_unhealthy(db: DB, silent_after_s: float) -> list[str]:
    rows = await db.fetch(
        "UPDATE agent_registry SET status = 'unhealthy', updated_at = CURRENT_TIMESTAMP "
        "WHERE status = 'healthy' AND (health->>'last_heartbeat')::timestamptz < now() - make_interval(secs => $1) "
        "RETURNING agent_id",
        silent_after_s,
    )
    return [r["agent_id"] for r in rows]


# An agent silent this long is taken for gone: it leaves the availability figures (it stays listed,
# greyed, for people to see) instead of dragging "Agent availability" down after every restart.
DEAD_GRACE_S = 600.0


async def health_by_type(db: DB, dead_grace_s: float = DEAD_GRACE_S) -> dict[str, tuple[int, int]]:
    """Per agent type: (healthy, counted), where counted leaves out agents shutting down and agents
    whose last heartbeat is older than the grace period."""
    rows = await db.fetch(
        "SELECT agent_type, count(*) FILTER (WHERE status = 'healthy') AS healthy, count(*) AS counted "
        "FROM agent_registry WHERE status NOT IN ('shutting_down', 'service') AND (status = 'healthy' OR "
        "(health->>'last_heartbeat')::timestamptz >= now() - make_interval(secs => $1)) GROUP BY 1",
        dead_grace_s)
    return {r["agent_type"]: (r["healthy"], r["counted"]) for r in rows}


async def list_agents(db: DB) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT r.*, (SELECT count(*) FROM agent_tasks t WHERE t.assigned_agent_id = r.agent_id "
        "AND t.status = 'completed' AND t.completed_at >= date_trunc('day', now() AT TIME ZONE 'utc')) "
        "AS tasks_completed_today FROM agent_registry r WHERE r.status <> 'service' "
        "ORDER BY r.agent_type, r.agent_id"
    )
    return [dict(r) for r in rows]
