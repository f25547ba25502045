"""The Costs view's service: tokens and cost per hour and day, by agent type, latency, error rate
and today's budget, each read from the module that owns its table."""

from __future__ import annotations

from typing import Any

import asyncpg

from agents import metrics, tasks
from agents.llm_budget import daily_budget, price_table, used_today
from app.generation import phase2_latency
from app.outcome import FINISHED_SQL
from engine.errors import require


class CostsService:
    def __init__(self, pool: asyncpg.Pool | None, redis: Any | None) -> None:
        """None for either: the services are stopped, and each call says so."""
        self._pool = pool
        self._redis = redis

    @property
    def pool(self) -> asyncpg.Pool:
        return require(self._pool)  # type: ignore[return-value]

    @property
    def redis(self) -> Any:
        return require(self._redis)

    async def budget(self) -> dict[str, Any]:
        """Today's tokens against the daily budget: the gateway's own figures, not a second derivation."""
        budget, used = await daily_budget(self.pool), await used_today(self.redis)
        return {"used": used, "budget": budget, "ratio": used / budget if budget else 0.0}

    async def cost_series(self, hours: int = 24) -> dict[str, Any]:
        per_hour = await metrics.token_series(self.pool, hours)
        phase2_p50, phase2_p95 = await phase2_latency(self.pool)
        agents_p50, agents_p95 = await tasks.generate_latency(self.pool)
        # Failed as the result header says it (a run that kept no test is a failure), by either path.
        error_rate = await self.pool.fetchval(
            "SELECT count(*) FILTER (WHERE verdict = 'failed')::float / NULLIF(count(*), 0) "
            f"FROM ({FINISHED_SQL}) f WHERE verdict <> 'running' AND created_at > now() - make_interval(hours => $1)",
            hours)
        prices = await price_table(self.pool)
        return {
            "unpriced_models": sorted(m for m in await metrics.models_used(self.pool) if m not in prices),
            "tokens_per_hour": [(h["t"], h["tokens"]) for h in per_hour],
            "cost_per_hour": [(h["t"], h["cost"]) for h in per_hour],
            "cost_per_day": await metrics.cost_per_day(self.pool),
            "tokens_by_agent_type": await metrics.tokens_by_agent_type(self.pool),
            "latency": {"phase2_p50": phase2_p50, "phase2_p95": phase2_p95,
                        "phase3_p50": agents_p50, "phase3_p95": agents_p95},
            "error_rate": error_rate,
            "budget": await self.budget(),
        }
