"""Rows of ``tests``, ``executions`` and ``element_fingerprints``: owns their SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg


async def create_test(db: asyncpg.Pool, name: str, code: str, kind: str, repository: str | None) -> int:
    return await db.fetchval(
        "INSERT INTO tests (name, code, kind, repository) VALUES ($1, $2, $3, $4) RETURNING id",
        name, code, kind, repository,
    )


async def create_execution(db: asyncpg.Pool, test_id: int, strategy: str) -> int:
    return await db.fetchval(
        "INSERT INTO executions (test_id, status, execution_strategy) VALUES ($1, 'pending', $2) RETURNING id",
        test_id, strategy,
    )


async def mark_running(db: asyncpg.Pool, execution_id: int) -> None:
    await db.execute(
        "UPDATE executions SET status = 'running', started_at = now() WHERE id = $1", execution_id
    )


async def record_attempt(db: asyncpg.Pool, execution_id: int, attempt: dict[str, Any]) -> None:
    """Append one tier's attempt, so a watcher sees progress before the end."""
    await db.execute(
        "UPDATE executions SET attempts = attempts || $2::jsonb, tier_reached = $3 WHERE id = $1",
        execution_id, [attempt], attempt["tier"],
    )


async def finish(
    db: asyncpg.Pool,
    execution_id: int,
    *,
    status: str,
    result: dict[str, Any],
    coverage: dict[str, Any] | None,
    healed_code: str | None,
    healed_diff: str | None,
    error: str | None,
) -> None:
    await db.execute(
        "UPDATE executions SET status = $2, result = $3, coverage = $4, healed_code = $5, healed_diff = $6, "
        "error = $7, completed_at = now() WHERE id = $1",
        execution_id, status, result, coverage, healed_code, healed_diff, error,
    )


async def get_execution(db: asyncpg.Pool, execution_id: int) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "SELECT e.*, t.name AS test_name FROM executions e LEFT JOIN tests t ON t.id = e.test_id WHERE e.id = $1",
        execution_id,
    )
    return _jsonable(dict(row)) if row else None


async def fingerprints_for(db: asyncpg.Pool, test_names: list[str]) -> dict[str, dict]:
    """Selector → fingerprint for the given tests (a later test wins on a shared selector)."""
    rows = await db.fetch(
        "SELECT selector, fingerprint FROM element_fingerprints WHERE test_name = ANY($1::text[]) "
        "ORDER BY updated_at",
        test_names,
    )
    return {r["selector"]: r["fingerprint"] for r in rows}


async def save_fingerprints(db: asyncpg.Pool, test_names: list[str], fingerprints: dict[str, dict]) -> None:
    await db.executemany(
        "INSERT INTO element_fingerprints (test_name, selector, fingerprint) VALUES ($1, $2, $3) "
        "ON CONFLICT (test_name, selector) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, updated_at = now()",
        [(name, sel, fp) for name in test_names for sel, fp in fingerprints.items()],
    )


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
