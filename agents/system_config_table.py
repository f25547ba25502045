"""SQL on ``system_config``, the key/value settings table: the one module that reads and writes it.

The gateway (model, budget, prices, limits, tool modes), the app's
settings service and the metrics all go through here; what a value may
be is checked above, in ``app/system_config.py``, before it is stored.
"""

from __future__ import annotations

import asyncpg

DB = asyncpg.Connection | asyncpg.Pool


async def get(db: DB, key: str) -> str | None:
    return await db.fetchval("SELECT value FROM system_config WHERE key = $1", key)


async def get_many(db: DB, keys: list[str]) -> dict[str, str]:
    rows = await db.fetch("SELECT key, value FROM system_config WHERE key = ANY($1::text[])", keys)
    return {r["key"]: r["value"] for r in rows}


async def get_all(db: DB) -> dict[str, str]:
    rows = await db.fetch("SELECT key, value FROM system_config ORDER BY key")
    return {r["key"]: r["value"] for r in rows}


async def put(db: DB, key: str, value: str, description: str | None = None) -> None:
    """Store one value (already validated), keeping an existing description unless one is given."""
    await db.execute(
        "INSERT INTO system_config (key, value, description, updated_at) VALUES ($1, $2, $3, now()) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), "
        "description = COALESCE(EXCLUDED.description, system_config.description)",
        key, value, description)


async def seed(db: DB, rows: list[tuple[str, str, str]]) -> None:
    """(key, value, description) rows inserted where absent; an edited value is never overwritten."""
    await db.executemany(
        "INSERT INTO system_config (key, value, description) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING", rows)
