"""The ``execution_settings`` row (id = 1): owns that table's SQL.

Agents read the same row (spec: "Agents read same execution_settings
table. No duplication.").
"""

from __future__ import annotations

from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

Strategy = Literal["tier1_only", "tier1_to_tier2", "tier1_to_tier2_to_tier3"]
STRATEGIES: tuple[str, ...] = ("tier1_only", "tier1_to_tier2", "tier1_to_tier2_to_tier3")
# Who heals browser tests and carries out their intent: auto = Stagehand when STAGEHAND_API_KEY is set.
BrowserBackend = Literal["auto", "ours", "stagehand"]
BROWSER_BACKENDS: tuple[str, ...] = ("auto", "ours", "stagehand")


class ExecutionSettings(BaseModel):
    fallback_strategy: Strategy = "tier1_to_tier2_to_tier3"
    timeout_seconds: int = Field(60, ge=1, le=3600)
    memory_limit_mb: int = Field(1024, ge=64, le=65536)
    max_retries: int = Field(1, ge=0, le=10)
    heal_match_threshold: float = Field(0.75, ge=0.0, le=1.0)
    # Run a repository's code even where bubblewrap cannot isolate it (engine/isolation.py).
    allow_unisolated: bool = False
    browser_backend: BrowserBackend = "auto"


class SettingsUpdate(BaseModel):
    """A partial change; unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    fallback_strategy: Strategy | None = None
    timeout_seconds: int | None = Field(None, ge=1, le=3600)
    memory_limit_mb: int | None = Field(None, ge=64, le=65536)
    max_retries: int | None = Field(None, ge=0, le=10)
    heal_match_threshold: float | None = Field(None, ge=0.0, le=1.0)
    allow_unisolated: bool | None = None
    browser_backend: BrowserBackend | None = None


_COLUMNS = tuple(ExecutionSettings.model_fields)


async def load(db: asyncpg.Pool | asyncpg.Connection) -> ExecutionSettings:
    row = await db.fetchrow(
        f"SELECT {', '.join(_COLUMNS)} FROM execution_settings WHERE id = 1"
    )
    return ExecutionSettings(**dict(row)) if row else ExecutionSettings()


async def update(db: asyncpg.Pool | asyncpg.Connection, change: SettingsUpdate) -> ExecutionSettings:
    merged = (await load(db)).model_copy(update=change.model_dump(exclude_none=True))
    await db.execute(
        "UPDATE execution_settings SET fallback_strategy = $1, timeout_seconds = $2, memory_limit_mb = $3, "
        "max_retries = $4, heal_match_threshold = $5, allow_unisolated = $6, browser_backend = $7, "
        "updated_at = now() WHERE id = 1",
        merged.fallback_strategy, merged.timeout_seconds, merged.memory_limit_mb,
        merged.max_retries, merged.heal_match_threshold, merged.allow_unisolated, merged.browser_backend,
    )
    return merged
