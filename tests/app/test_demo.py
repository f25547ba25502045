"""The screenshots' demo data (app/demo.py): seeded again in the same data folder, it replaces itself."""

from __future__ import annotations

from types import SimpleNamespace

import asyncpg
import redis.asyncio as aioredis

from agents.constants import budget_key
from agents.llm_budget import today
from app.demo import seed_demo


async def test_seeding_twice_replaces_the_first_run_and_counts_todays_tokens_once(
        pool: asyncpg.Pool, redis_client: aioredis.Redis) -> None:
    """A second ``aiwebtest --screenshots`` met its own request ids and ended in a traceback."""
    core = SimpleNamespace(pool=pool, redis=redis_client)
    await seed_demo(core)
    first = (await pool.fetchval("SELECT count(*) FROM generation_requests WHERE routing_key = 'demo'"),
             await pool.fetchval("SELECT count(*) FROM agent_metrics WHERE metadata->>'demo' = 'true'"),
             int(await redis_client.get(budget_key(today())) or 0))
    await seed_demo(core)
    again = (await pool.fetchval("SELECT count(*) FROM generation_requests WHERE routing_key = 'demo'"),
             await pool.fetchval("SELECT count(*) FROM agent_metrics WHERE metadata->>'demo' = 'true'"),
             int(await redis_client.get(budget_key(today())) or 0))
    assert first[0] > 0 and again == first
