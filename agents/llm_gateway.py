"""Every model call in the product goes through here: generation, repair, tier 3, polish, embeddings.

* **Budget** (``agents/llm_budget.py``): a call reserves its estimated tokens
  of the shared daily budget before it is sent and settles to the real usage
  after; one that would exceed it is refused with what is left.
* **One usage row per attempt** (``agent_metrics``, ``token_usage``) with
  the model, the prompt and completion tokens and the cost: the dashboard,
  the request's total and the budget all read the same figures. An attempt
  that timed out after the server took the prompt is counted too, with an
  estimate, and marked so.
* **Price**: per model, input and output (``agents/prices.py``). A model
  without a price costs ``None``, never a silent $0.
* **Limits** (``agents/llm_limits.py``): time-outs, retries and
  ``max_tokens`` are settings with a hosted and a local profile. Answers
  are streamed where the server can (``agents/llm_stream.py``). Re-sends
  (tenacity, ``agents/llm_retry.py``) happen only where the server did not
  keep the prompt (429, 5xx, refused connection), or after a time-out when
  the profile allows it, and then the log says so.
* **Actions** (tier 3): OpenAI tool calls where the model makes them, else
  JSON-schema output (llama.cpp and vLLM constrain it by grammar); which
  one a model needs is found once and kept in ``system_config.llm_tool_modes``.
* **Key**: the OS keyring first, then ``LLM_API_KEY``; never stored in the
  database, never logged, never passed to a sandbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    InternalServerError,
    RateLimitError,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from agents import metrics
from agents import system_config_table as config_table
from agents.constants import budget_key
from agents.llm_budget import BudgetExceeded, TokenBudget, price_table, today
from agents.llm_limits import KEYS as LIMIT_KEYS
from agents.llm_limits import CallLimits, limits_of
from agents.llm_messages import (
    action_format,
    assistant_message,
    calls_in_text,
    estimate_tokens,
    json_messages,
    parsed_arguments,
)
from agents.llm_retry import backoff_wait, describe, http_timeout
from agents.llm_stream import AnswerReader, TimedOut
from agents.prices import ModelPrice
from engine.errors import AppError
from engine.model_port import (
    ModelRefused,
    ModelReply,
    OnProgress,
    Spent,
    Tally,
    ToolCall,
)

log = logging.getLogger(__name__)

KEYRING_SERVICE = "aiwebtest"
KEYRING_USER = "llm_api_key"
TOOL_MODES_KEY = "llm_tool_modes"

class LLMUnavailable(AppError, ModelRefused):
    """No model is configured, or the endpoint failed after retries.

    ``status`` is the HTTP status of the last answer, when there was one.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def api_key_from_keyring() -> str | None:
    """The stored key, or None (also when no usable keyring backend exists)."""
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # noqa: BLE001 - keyring backends raise many things; no key is the answer
        return None


@dataclass(frozen=True)
class GatewaySettings:
    """``limits_env``: the ``LLM_PROFILE``/``LLM_*_TIMEOUT_S``/… values the environment sets; they win
    over the Settings dialog's, as ``LLM_BASE_URL`` does."""

    base_url: str
    model: str
    api_key: str | None
    limits_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMGateway:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, settings: GatewaySettings) -> None:
        self.pool = pool
        self.redis = redis
        self.settings = settings
        # Our own retries (tenacity, below) decide what may be re-sent; the client's would re-send time-outs.
        self._client = AsyncOpenAI(base_url=settings.base_url, api_key=settings.api_key or "not-needed",
                                   max_retries=0)
        self._budget = TokenBudget(pool, redis)
        self._reader = AnswerReader(self._client, settings.base_url)
        self._tool_modes: dict[str, str] | None = None

    async def close(self) -> None:
        await self._client.close()

    # -- settings --------------------------------------------------------------------------------

    async def budget(self) -> int:
        return await self._budget.budget()

    async def model(self) -> str:
        value = await config_table.get(self.pool, "llm_model")
        return value or self.settings.model

    async def prices(self) -> dict[str, ModelPrice]:
        return await price_table(self.pool)

    async def limits(self) -> CallLimits:
        values = await config_table.get_many(self.pool, list(LIMIT_KEYS))
        values.update({k: v for k, v in self.settings.limits_env.items() if v})
        try:
            return limits_of(values)
        except ValueError as exc:
            raise LLMUnavailable(f"The model call limits are wrong: {exc}. Fix them in the Settings dialog.") from None

    async def used_today(self) -> int:
        return await self._budget.used_today()

    # -- calls -----------------------------------------------------------------------------------

    async def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        agent_id: str,
        task_id: str | None = None,
        purpose: str = "chat",
        tools: list[dict[str, Any]] | None = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        on_progress: OnProgress | None = None,
    ) -> ModelReply:
        """One chat completion within the budget and the limits."""
        model = await self.model()
        limits = await self.limits()
        answer_tokens = min(max_tokens or limits.max_tokens, limits.max_tokens)
        kwargs: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": answer_tokens}
        if tools:
            kwargs["tools"] = tools
        if response_format:
            kwargs["response_format"] = response_format
        prompt_estimate = estimate_tokens(messages, tools)
        meta = {"task_id": task_id, "model": model, "purpose": purpose}

        async def attempt() -> tuple[Any, Usage]:
            completion, estimated = await self._reader.answer(kwargs, limits, prompt_estimate, on_progress)
            usage = completion.usage
            if usage is not None and not estimated:
                return completion, Usage(usage.prompt_tokens, usage.completion_tokens, None)
            # No usage block (some servers leave it out when streaming): our estimate, marked so.
            return completion, Usage(prompt_estimate, estimated, None)

        completion, usage = await self._metered(attempt, prompt_estimate + answer_tokens, limits, agent_id, meta)
        if not completion.choices:  # a stream of nothing but its usage: an empty answer, counted all the same
            return ModelReply(text="", model=model, prompt_tokens=usage.prompt_tokens,
                              completion_tokens=usage.completion_tokens, cost_usd=usage.cost_usd,
                              assistant={"role": "assistant", "content": ""})
        choice = completion.choices[0]
        message = choice.message
        calls = tuple(ToolCall(c.id, c.function.name, parsed_arguments(c.function.arguments)) for c in message.tool_calls or [])
        return ModelReply(text=message.content or "", model=model, prompt_tokens=usage.prompt_tokens,
                          completion_tokens=usage.completion_tokens, cost_usd=usage.cost_usd,
                          mode="tools" if calls else "text", calls=calls, truncated=choice.finish_reason == "length",
                          assistant=assistant_message(message.content, message.tool_calls or []))

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, agent_id: str,
                  task_id: str | None = None, purpose: str = "act", max_tokens: int | None = None) -> ModelReply:
        """The model's next action: tool calls where it makes them, else JSON-schema output.

        A Qwen2.5-Coder 1.5B under llama.cpp returned no ``tool_calls`` in 12 of 12 tries while its
        JSON-schema output always parsed (issue 15). The first answer of a model decides which it
        gets from then on; the choice is stored, so it is found once per model, not per process.
        """
        model = await self.model()
        mode = (await self._known_modes()).get(model)
        names = [t["function"]["name"] for t in tools]
        reply: ModelReply | None = None
        if mode != "json":
            try:
                reply = await self.chat(messages, agent_id=agent_id, task_id=task_id, purpose=purpose, tools=tools,
                                        max_tokens=max_tokens)
            except LLMUnavailable as exc:
                if mode is not None or exc.status not in (400, 422, 500, 501):
                    raise
                log.info("model %s: the endpoint refused tool definitions (%s); trying JSON output", model, exc)
                reply = None
            if reply is not None and reply.calls:
                if mode is None:
                    await self._remember_mode(model, "tools")
                return reply
            if reply is not None and (calls := calls_in_text(reply.text, names)):
                # The call came back as text: use it, and ask for JSON from now on.
                await self._remember_mode(model, "json")
                return ModelReply(reply.text, model, reply.prompt_tokens, reply.completion_tokens, reply.cost_usd,
                                  "json", calls, {"role": "assistant", "content": reply.text})
            if reply is not None and mode == "tools":
                return reply  # a model known to call tools chose to answer in words
        first = reply  # an answer in words (or none): spent, and not used
        try:
            reply = await self.chat(json_messages(messages, tools), agent_id=agent_id, task_id=task_id,
                                    purpose=purpose, max_tokens=max_tokens, response_format=action_format(tools))
        except ModelRefused as exc:
            exc.spent = _spent(first)  # the JSON call failed (over budget, server error): the first was paid
            raise
        calls = calls_in_text(reply.text, names)
        if not calls:
            cut = (f" (cut off at the answer limit of {reply.completion_tokens:,} tokens: raise llm_max_tokens)"
                   if reply.truncated else "")
            refused = LLMUnavailable(f"The model {model} answered neither a tool call nor the JSON action it was "
                                     f"asked for{cut}: {reply.text[:200]!r}")
            refused.spent = _spent(reply, first)
            raise refused
        if mode is None:
            await self._remember_mode(model, "json")
        log.info("model %s: action by JSON output", model)
        return ModelReply(reply.text, model, reply.prompt_tokens, reply.completion_tokens, reply.cost_usd, "json",
                          calls, {"role": "assistant", "content": reply.text})

    @staticmethod
    def tool_result(reply: ModelReply, call: ToolCall, outcome: dict[str, Any]) -> dict[str, Any]:
        """The message that reports a tool's outcome, in the form the reply's mode needs."""
        if reply.mode == "tools":
            return {"role": "tool", "tool_call_id": call.id, "content": json.dumps(outcome)}
        return {"role": "user", "content": f"Result of {call.name}: {json.dumps(outcome)}"}

    async def embed(self, texts: list[str], *, model: str, dimensions: int, agent_id: str = "phase2",
                    task_id: str | None = None) -> list[list[float]]:
        """Embeddings, reserved, counted and priced like any other call."""
        limits = await self.limits()
        estimate = sum(len(t) for t in texts) // 4 + 8
        meta = {"task_id": task_id, "model": model, "purpose": "embeddings"}

        async def attempt() -> tuple[Any, Usage]:
            wait = limits.whole_answer_wait_s(estimate, 0)
            try:
                reply = await asyncio.wait_for(
                    self._client.embeddings.create(model=model, input=texts, dimensions=dimensions,
                                                   timeout=http_timeout(limits, wait)), wait)
            except (TimeoutError, APITimeoutError):
                raise TimedOut(f"no embeddings within {wait:.0f} s", estimate) from None
            used = reply.usage.prompt_tokens if reply.usage else estimate
            return reply, Usage(used, 0, None)

        reply, _ = await self._metered(attempt, estimate, limits, agent_id, meta, model=model)
        return [list(item.embedding) for item in reply.data]

    # -- the machinery -----------------------------------------------------------------------------

    async def _metered(self, attempt: Callable[[], Awaitable[tuple[Any, Usage]]], reserve: int,
                       limits: CallLimits, agent_id: str, meta: dict[str, Any],
                       model: str | None = None) -> tuple[Any, Usage]:
        """Reserve, send (re-sending only what may be re-sent), settle, record one row per attempt."""
        model = model or meta["model"]
        price = (await self.prices()).get(model)
        key = budget_key(today())

        async def once() -> tuple[Any, Usage]:
            await self._budget.reserve_or_refuse(key, reserve)
            spent = 0
            try:
                result, usage = await attempt()
                spent = usage.total
            except TimedOut as exc:
                spent = exc.tokens  # the server read the prompt: it is counted, as an estimate
                await self._record(agent_id, meta, Usage(exc.tokens, 0, None), price, estimated=True, abandoned=True)
                raise
            finally:
                await self.redis.incrby(key, spent - reserve)  # settle: give back what was not used
            usage.cost_usd = price.cost_usd(usage.prompt_tokens, usage.completion_tokens) if price else None
            await self._record(agent_id, meta, usage, price)
            return result, usage

        def resendable(exc: BaseException) -> bool:
            if isinstance(exc, (RateLimitError, InternalServerError)):
                return True  # the server answered: it is not working on the prompt any more
            if isinstance(exc, APIConnectionError) and not isinstance(exc, APITimeoutError):
                return isinstance(exc.__cause__, httpx.ConnectError)  # refused: the prompt never arrived
            return isinstance(exc, TimedOut) and limits.resend_after_timeout

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, TimedOut):
                log.warning("model %s (%s): %s; re-sending (attempt %d of %d) although the server may still be "
                            "working on the abandoned prompt (%s)", model, meta["purpose"], exc,
                            state.attempt_number + 1, limits.max_retries + 1, limits.profile)
            else:
                log.info("model %s (%s): %s; re-sending (attempt %d of %d)", model, meta["purpose"],
                         describe(exc), state.attempt_number + 1, limits.max_retries + 1)

        try:
            async for try_ in AsyncRetrying(stop=stop_after_attempt(limits.max_retries + 1), wait=backoff_wait,
                                            retry=retry_if_exception(resendable), before_sleep=before_sleep,
                                            reraise=True):
                with try_:
                    return await once()
        except (BudgetExceeded, asyncio.CancelledError):
            raise
        except TimedOut as exc:
            tries = (f" after {limits.max_retries + 1} attempts" if limits.resend_after_timeout and limits.max_retries
                     else "")
            raise LLMUnavailable(
                f"The model {model} at {self.settings.base_url} timed out{tries}: {exc} ({limits.describe()}). "
                "A slow local model needs the local profile or longer time-outs (Settings dialog, or "
                "LLM_PROFILE=local).") from None
        except APIStatusError as exc:
            raise LLMUnavailable(
                f"The model endpoint {self.settings.base_url} answered {exc.status_code} "
                f"({describe(exc)}) for model {model}" + (f" after {limits.max_retries} retries." if
                                                          resendable(exc) else "."), exc.status_code) from None
        except Exception as exc:  # noqa: BLE001 - connection errors and the like, after retries
            raise LLMUnavailable(
                f"The model endpoint {self.settings.base_url} did not answer ({describe(exc)})"
                + (f" after {limits.max_retries} retries." if resendable(exc) else ".")) from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _record(self, agent_id: str, meta: dict[str, Any], usage: Usage, price: ModelPrice | None, *,
                      estimated: bool = False, abandoned: bool = False) -> None:
        cost = price.cost_usd(usage.prompt_tokens, usage.completion_tokens) if price else None
        data = {**meta, "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                "cost_usd": cost if cost is not None else 0.0}
        if cost is None:
            data["unpriced"] = True
        if estimated:
            data["estimated"] = True
        if abandoned:
            data["abandoned"] = True
        await metrics.record(self.pool, agent_id, "token_usage", usage.total, data)

    async def _known_modes(self) -> dict[str, str]:
        if self._tool_modes is None:
            stored = await config_table.get(self.pool, TOOL_MODES_KEY)
            try:
                self._tool_modes = dict(json.loads(stored)) if stored else {}
            except (ValueError, TypeError):
                self._tool_modes = {}
        return self._tool_modes

    async def _remember_mode(self, model: str, mode: str) -> None:
        modes = await self._known_modes()
        modes[model] = mode
        await config_table.put(self.pool, TOOL_MODES_KEY, json.dumps(modes, sort_keys=True),
                               "How each model returns actions: tools (tool calls) or json (JSON-schema output)")


def _spent(*replies: ModelReply | None) -> Spent:
    tally = Tally()
    for reply in replies:
        if reply is not None:
            tally.add(reply)
    return Spent(tally.prompt_tokens, tally.completion_tokens, tally.cost_usd)
