"""Every model call in the product goes through here: generation, repair, tier 3, polish, embeddings.

* **Budget**: the daily token budget (``system_config.daily_token_budget``)
  is shared by every process through one Redis counter per UTC day. A call
  *reserves* its estimated tokens atomically (a Lua script) before it is
  sent and settles to the real usage after, so concurrent calls can never
  overshoot together. A call that would exceed the budget is refused with
  what is left and what it needs.
* **One usage row per attempt** (``agent_metrics``, ``token_usage``) with
  the model, the prompt and completion tokens and the cost: the dashboard,
  the request's total and the budget all read the same figures. An attempt
  that timed out after the server took the prompt is counted too, with an
  estimate, and marked so.
* **Price**: per model, input and output (``agents/prices.py``). A model
  without a price costs ``None``, never a silent $0.
* **Limits** (``agents/llm_limits.py``): time-outs, retries and
  ``max_tokens`` are settings with a hosted and a local profile. Answers
  are streamed where the server can, so a slow model is seen working
  (tokens so far, tokens/s) and a silent one is caught by its silence, not
  by a wall clock. Re-sends (tenacity) happen only where the server did not
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
from datetime import datetime, timezone
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
from openai.lib.streaming.chat import ChatCompletionStreamState
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from agents import metrics
from agents import system_config_table as config_table
from agents.constants import DEFAULT_DAILY_TOKEN_BUDGET, budget_key
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
from agents.prices import ModelPrice, with_defaults
from engine.errors import AppError
from engine.model_port import (
    ModelRefused,
    ModelReply,
    OnProgress,
    Spent,
    StreamProgress,
    Tally,
    ToolCall,
)

log = logging.getLogger(__name__)

KEYRING_SERVICE = "aiwebtest"
KEYRING_USER = "llm_api_key"
TOOL_MODES_KEY = "llm_tool_modes"
PROGRESS_EVERY_S = 1.0

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


class _TimedOut(Exception):
    """No token within the wait, or silence too long mid-answer. ``tokens``: what the server likely spent."""

    def __init__(self, message: str, tokens: int) -> None:
        super().__init__(message)
        self.tokens = tokens


class _NoStream(Exception):
    """The server does not stream: ask again without, and remember for this endpoint."""


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


class LLMGateway:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, settings: GatewaySettings) -> None:
        self.pool = pool
        self.redis = redis
        self.settings = settings
        # Our own retries (tenacity, below) decide what may be re-sent; the client's would re-send time-outs.
        self._client = AsyncOpenAI(base_url=settings.base_url, api_key=settings.api_key or "not-needed",
                                   max_retries=0)
        self._reserve = self.redis.register_script(_RESERVE)
        self._streams = True  # until the endpoint shows it cannot
        self._tool_modes: dict[str, str] | None = None

    async def close(self) -> None:
        await self._client.close()

    # -- settings --------------------------------------------------------------------------------

    async def budget(self) -> int:
        return await daily_budget(self.pool)

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
        return await used_today(self.redis)

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
            completion, estimated = await self._complete(kwargs, limits, prompt_estimate, on_progress)
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
                                                   timeout=_http_timeout(limits, wait)), wait)
            except (TimeoutError, APITimeoutError):
                raise _TimedOut(f"no embeddings within {wait:.0f} s", estimate) from None
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
            await self._reserve_or_refuse(key, reserve)
            spent = 0
            try:
                result, usage = await attempt()
                spent = usage.total
            except _TimedOut as exc:
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
            return isinstance(exc, _TimedOut) and limits.resend_after_timeout

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _TimedOut):
                log.warning("model %s (%s): %s; re-sending (attempt %d of %d) although the server may still be "
                            "working on the abandoned prompt (%s)", model, meta["purpose"], exc,
                            state.attempt_number + 1, limits.max_retries + 1, limits.profile)
            else:
                log.info("model %s (%s): %s; re-sending (attempt %d of %d)", model, meta["purpose"],
                         _describe(exc), state.attempt_number + 1, limits.max_retries + 1)

        try:
            async for try_ in AsyncRetrying(stop=stop_after_attempt(limits.max_retries + 1), wait=_wait,
                                            retry=retry_if_exception(resendable), before_sleep=before_sleep,
                                            reraise=True):
                with try_:
                    return await once()
        except (BudgetExceeded, asyncio.CancelledError):
            raise
        except _TimedOut as exc:
            tries = (f" after {limits.max_retries + 1} attempts" if limits.resend_after_timeout and limits.max_retries
                     else "")
            raise LLMUnavailable(
                f"The model {model} at {self.settings.base_url} timed out{tries}: {exc} ({limits.describe()}). "
                "A slow local model needs the local profile or longer time-outs (Settings dialog, or "
                "LLM_PROFILE=local).") from None
        except APIStatusError as exc:
            raise LLMUnavailable(
                f"The model endpoint {self.settings.base_url} answered {exc.status_code} "
                f"({_describe(exc)}) for model {model}" + (f" after {limits.max_retries} retries." if
                                                          resendable(exc) else "."), exc.status_code) from None
        except Exception as exc:  # noqa: BLE001 - connection errors and the like, after retries
            raise LLMUnavailable(
                f"The model endpoint {self.settings.base_url} did not answer ({_describe(exc)})"
                + (f" after {limits.max_retries} retries." if resendable(exc) else ".")) from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _reserve_or_refuse(self, key: str, estimate: int) -> None:
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

    async def _complete(self, kwargs: dict[str, Any], limits: CallLimits, prompt_estimate: int,
                        on_progress: OnProgress | None) -> tuple[Any, int]:
        """One attempt: (the completion, 0 or the completion tokens we had to count ourselves)."""
        if self._streams:
            try:
                return await self._streamed(kwargs, limits, prompt_estimate, on_progress)
            except _NoStream as why:
                log.info("%s does not stream (%s): waiting for whole answers", self.settings.base_url, why)
                self._streams = False
        wait = limits.whole_answer_wait_s(prompt_estimate, kwargs["max_tokens"])
        try:
            reply = await asyncio.wait_for(
                self._client.chat.completions.create(**kwargs, timeout=_http_timeout(limits, wait)), wait)
        except (TimeoutError, APITimeoutError):
            raise _TimedOut(f"no answer within {wait:.0f} s", prompt_estimate) from None
        return reply, 0

    async def _streamed(self, kwargs: dict[str, Any], limits: CallLimits, prompt_estimate: int,
                        on_progress: OnProgress | None) -> tuple[Any, int]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        first_wait = limits.first_token_wait_s(prompt_estimate)
        try:
            stream = await asyncio.wait_for(self._client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True},
                timeout=_http_timeout(limits, max(first_wait, limits.stall_s))), first_wait)
        except (TimeoutError, APITimeoutError):
            raise _TimedOut(f"no answer within {first_wait:.0f} s", prompt_estimate) from None
        except APIStatusError as exc:
            if exc.status_code in (400, 404, 415, 422, 501) and "stream" in str(exc).lower():
                raise _NoStream(_describe(exc)) from None
            raise
        state = ChatCompletionStreamState()
        chunks = 0
        writing_since: float | None = None
        said = 0.0
        usage_seen = False
        try:
            iterator = stream.__aiter__()
            while True:
                now = loop.time()
                wait = first_wait - (now - started) if chunks == 0 else limits.stall_s
                try:
                    chunk = await asyncio.wait_for(iterator.__anext__(), max(wait, 0.05))
                except StopAsyncIteration:
                    break
                except (TimeoutError, APITimeoutError):
                    what = (f"no token within {first_wait:.0f} s" if chunks == 0 else
                            f"the answer stalled: nothing for {limits.stall_s:.0f} s after {chunks} tokens")
                    raise _TimedOut(what, prompt_estimate + chunks) from None
                state.handle_chunk(chunk)
                usage_seen = usage_seen or chunk.usage is not None
                delta = chunk.choices[0].delta if chunk.choices else None
                if delta is not None and (delta.content or delta.tool_calls):
                    chunks += 1
                    now = loop.time()
                    writing_since = writing_since or now
                    if on_progress is not None and now - said >= PROGRESS_EVERY_S:
                        said = now
                        rate = chunks / max(now - writing_since, 1e-3) if chunks > 1 else 0.0
                        await on_progress(StreamProgress(kwargs["model"], chunks, rate, now - started))
        finally:
            await stream.close()
        if chunks == 0 and not usage_seen:
            raise _NoStream("the streamed answer had no chunks")
        # The snapshot, not get_final_completion(): that one raises on an answer cut at max_tokens
        # (finish_reason "length"), which a real llama.cpp server gave on the first long prompt.
        return state.current_completion_snapshot, 0 if usage_seen else chunks

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


def _http_timeout(limits: CallLimits, read_s: float) -> httpx.Timeout:
    """httpx's own time-outs are a backstop behind ours (asyncio), which say what timed out."""
    return httpx.Timeout(connect=limits.connect_s, read=read_s + 5, write=60, pool=60)


_BACKOFF = wait_random_exponential(multiplier=0.5, max=30)


def _wait(state: RetryCallState) -> float:
    """The server's ``retry-after`` when it gives one (capped), else tenacity's jittered exponential back-off."""
    exc = state.outcome.exception() if state.outcome else None
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header is not None:
        try:
            return min(max(float(header), 0.0), 60.0)
        except ValueError:
            pass
    return _BACKOFF(state)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, APIStatusError):
        return f"{exc.status_code}: {exc.message}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300] if exc else "unknown"


def _spent(*replies: ModelReply | None) -> Spent:
    tally = Tally()
    for reply in replies:
        if reply is not None:
            tally.add(reply)
    return Spent(tally.prompt_tokens, tally.completion_tokens, tally.cost_usd)
