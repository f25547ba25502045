"""Every model call goes through here: budget, price, metrics, retries.

* **Budget**: the daily token budget (``system_config.daily_token_budget``)
  is shared by every process through one Redis counter per UTC day. A call
  *reserves* its estimated tokens atomically (a Lua script) before it is
  sent and settles to the real usage after, so concurrent calls can never
  overshoot together. A call that would exceed the budget is refused.
* **Price**: per-model USD per million input and output tokens from
  ``system_config.llm_prices`` (``agents/prices.py``), applied to the usage the
  response reports.
* **Retries**: the ``openai`` client's own retry (exponential backoff with
  jitter, honouring ``retry-after``) covers 429, 5xx, connection errors
  and time-outs; we set how many.
* **Key**: the OS keyring first, then ``LLM_API_KEY``; never stored in the
  database, never logged, never passed to a sandbox.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from openai import APIStatusError, AsyncOpenAI

from agents import metrics
from agents.constants import DEFAULT_DAILY_TOKEN_BUDGET, budget_key
from agents.prices import ModelPrice, with_defaults
from app.errors import AppError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "aiwebtest"
KEYRING_USER = "llm_api_key"

# KEYS[1] = day counter; ARGV = reserve, budget, ttl_s. Returns new total, or -1 if refused.
_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
if used + want > tonumber(ARGV[2]) then return -1 end
local total = redis.call('INCRBY', KEYS[1], want)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return total
"""


class BudgetExceeded(AppError):
    """The daily token budget would be exceeded by this call."""


class LLMUnavailable(AppError):
    """No model is configured, or the endpoint failed after retries."""


def api_key_from_keyring() -> str | None:
    """The stored key, or None (also when no usable keyring backend exists)."""
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # noqa: BLE001 - keyring backends raise many things; no key is the answer
        return None


@dataclass(frozen=True)
class GatewaySettings:
    base_url: str
    model: str
    api_key: str | None
    max_retries: int = 3
    timeout_s: float = 60.0


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


class LLMGateway:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, settings: GatewaySettings) -> None:
        self.pool = pool
        self.redis = redis
        self.settings = settings
        self._client = AsyncOpenAI(
            base_url=settings.base_url, api_key=settings.api_key or "not-needed",
            max_retries=settings.max_retries, timeout=settings.timeout_s,
        )
        self._reserve = self.redis.register_script(_RESERVE)

    async def close(self) -> None:
        await self._client.close()

    async def budget(self) -> int:
        value = await self.pool.fetchval("SELECT value FROM system_config WHERE key = 'daily_token_budget'")
        return int(value) if value else DEFAULT_DAILY_TOKEN_BUDGET

    async def model(self) -> str:
        value = await self.pool.fetchval("SELECT value FROM system_config WHERE key = 'llm_model'")
        return value or self.settings.model

    async def prices(self) -> dict[str, ModelPrice]:
        return with_defaults(await self.pool.fetchval("SELECT value FROM system_config WHERE key = 'llm_prices'"))

    async def used_today(self) -> int:
        return int(await self.redis.get(budget_key(today())) or 0)

    async def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        agent_id: str,
        task_id: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int = 2048,
    ) -> tuple[Any, Usage]:
        """One chat completion within the budget; returns (message, usage)."""
        model = await self.model()
        budget = await self.budget()
        estimate = _estimate_tokens(messages, tools) + max_tokens
        key = budget_key(today())
        total = await self._reserve(keys=[key], args=[estimate, budget, 2 * 86400])
        if int(total) < 0:
            used = await self.used_today()
            left = max(budget - used, 0)
            # "Used up" was said with 1,760 of 5,000 tokens left (issue 16): say what is left and what is needed.
            raise BudgetExceeded(
                f"This model call needs about {estimate:,} tokens, but only {left:,} of the daily budget of "
                f"{budget:,} are left ({used:,} used today). Raise the budget in the Settings dialog, or wait "
                "until 00:00 UTC."
            )
        actual = 0
        try:
            kwargs: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens}
            if tools:
                kwargs["tools"] = tools
            try:
                reply = await self._client.chat.completions.create(**kwargs)
            except APIStatusError as exc:
                raise LLMUnavailable(
                    f"The model endpoint {self.settings.base_url} answered {exc.status_code} after "
                    f"{self.settings.max_retries} retries: {exc.message}"
                ) from None
            except Exception as exc:  # noqa: BLE001 - connection errors and time-outs after retries
                raise LLMUnavailable(
                    f"The model endpoint {self.settings.base_url} did not answer ({type(exc).__name__}) "
                    f"after {self.settings.max_retries} retries."
                ) from None
            usage = reply.usage
            prompt = usage.prompt_tokens if usage else 0
            completion = usage.completion_tokens if usage else 0
            actual = prompt + completion
        finally:
            # Settle: give back what was reserved but not used (all of it on failure).
            await self.redis.incrby(key, actual - estimate)
        price = (await self.prices()).get(model)
        cost = price.cost_usd(prompt, completion) if price else 0.0
        await metrics.record(self.pool, agent_id, "token_usage", actual,
                             {"task_id": task_id, "model": model, "prompt_tokens": prompt,
                              "completion_tokens": completion, "cost_usd": cost})
        return reply.choices[0].message, Usage(prompt, completion, cost)


def _estimate_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> int:
    """About four characters a token: enough for a reservation that is settled after."""
    chars = sum(len(json.dumps(m)) for m in messages) + (len(json.dumps(tools)) if tools else 0)
    return chars // 4 + 16
