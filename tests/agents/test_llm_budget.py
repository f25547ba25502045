"""The shared daily budget on real PostgreSQL and Redis: concurrent reservations never overshoot it."""

from __future__ import annotations

import asyncio

import pytest

from agents.constants import budget_key
from agents.llm_budget import BudgetExceeded, TokenBudget, today
from app import system_config


async def test_concurrent_reservations_stop_at_the_budget_and_the_refusal_says_what_is_left(
        pool, redis_client) -> None:
    await system_config.set_value(pool, "daily_token_budget", "10000")
    budget, key = TokenBudget(pool, redis_client), budget_key(today())
    results = await asyncio.gather(*(budget.reserve_or_refuse(key, 3000) for _ in range(5)), return_exceptions=True)
    assert sum(r is None for r in results) == 3  # 9,000 of 10,000: a fourth 3,000 would overshoot
    assert await budget.used_today() == 9000
    with pytest.raises(BudgetExceeded, match=r"needs about 3,000 tokens, but only 1,000 of the daily budget of 10,000"):
        await budget.reserve_or_refuse(key, 3000)
