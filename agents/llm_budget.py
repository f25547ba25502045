"""The daily token budget every process shares: one Redis counter per UTC day, reserved before a call.

A call *reserves* its estimated tokens atomically (a Lua script) before it is sent and settles to the real
usage after (agents/llm_gateway.py), so concurrent calls can never overshoot together; a call that would
exceed the budget is refused with what is left and what it needs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from agents import system_config_table as config_table
from agents.constants import DEFAULT_DAILY_TOKEN_BUDGET, budget_key
from agents.prices import ModelPrice, with_defaults
from engine.errors import AppError
from engine.model_port import ModelRefused

# KEYS[1] = day counter; ARGV = reserve, budget, ttl_s. Returns new total, or -1 if refused.
_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
if used + want > tonumber(ARGV[2]) then return -1 end
local total = redis.call('INCRBY', KEYS[1], want)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return total
"""


class BudgetExceeded(AppError, ModelRefused):
    """The daily token budget would be exceeded by this call."""


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


class TokenBudget:
    """Reserves a call's tokens against today's budget, or refuses the call saying what is left."""

    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
        self.pool, self.redis = pool, redis
        self._reserve = redis.register_script(_RESERVE)

    async def budget(self) -> int:
        return await daily_budget(self.pool)

    async def used_today(self) -> int:
        return await used_today(self.redis)

    async def reserve_or_refuse(self, key: str, estimate: int) -> None:
        budget = await self.budget()
        total = await self._reserve(keys=[key], args=[estimate, budget, 2 * 86400])
        if int(total) < 0:
            used = await self.used_today()
            left = max(budget - used, 0)
            # "Used up" was said with 1,760 of 5,000 tokens left (issue 16): say what is left and what is needed.
            raise BudgetExceeded(
                f"This model call needs about {estimate:,} tokens, but only {left:,} of the daily budget of "
                f"{budget:,} are left ({used:,} used today). Raise the budget in the Settings dialog, or wait "
                "until 00:00 UTC.")


async def price_table(db: Any) -> dict[str, ModelPrice]:
    """The prices calls are charged at: the stored table over the defaults (``system_config.llm_prices``)."""
    return with_defaults(await config_table.get(db, "llm_prices"))


async def daily_budget(db: Any) -> int:
    """Tokens per day for all agents together (``system_config.daily_token_budget``)."""
    value = await config_table.get(db, "daily_token_budget")
    return int(value) if value else DEFAULT_DAILY_TOKEN_BUDGET


async def used_today(redis: aioredis.Redis) -> int:
    """Tokens reserved or spent today (UTC), as the budget counts them."""
    return int(await redis.get(budget_key(today())) or 0)
