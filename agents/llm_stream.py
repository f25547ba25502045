"""One attempt at a chat answer: streamed where the server can, so a slow model is seen working.

Streaming shows tokens so far and tokens/s (``on_progress``) and catches a silent model by its silence (no
token within the first wait, or nothing for ``stall_s`` mid-answer), not by a wall clock. A server that
cannot stream is asked for whole answers from then on. What may be sent again is the gateway's decision
(agents/llm_gateway.py); here a time-out is raised as ``TimedOut`` with the tokens the server likely spent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from openai import APIStatusError, APITimeoutError, AsyncOpenAI
from openai.lib.streaming.chat import ChatCompletionStreamState

from agents.llm_limits import CallLimits
from agents.llm_retry import describe, http_timeout
from engine.model_port import OnProgress, StreamProgress

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0


class TimedOut(Exception):
    """No token within the wait, or silence too long mid-answer. ``tokens``: what the server likely spent."""

    def __init__(self, message: str, tokens: int) -> None:
        super().__init__(message)
        self.tokens = tokens


class _NoStream(Exception):
    """The server does not stream: ask again without, and remember for this endpoint."""


class AnswerReader:
    """Reads one answer from ``client``; remembers whether ``base_url`` streams."""

    def __init__(self, client: AsyncOpenAI, base_url: str) -> None:
        self.client, self.base_url = client, base_url
        self._streams = True  # until the endpoint shows it cannot

    async def answer(self, kwargs: dict[str, Any], limits: CallLimits, prompt_estimate: int,
                        on_progress: OnProgress | None) -> tuple[Any, int]:
        """One attempt: (the completion, 0 or the completion tokens we had to count ourselves)."""
        if self._streams:
            try:
                return await self._streamed(kwargs, limits, prompt_estimate, on_progress)
            except _NoStream as why:
                log.info("%s does not stream (%s): waiting for whole answers", self.base_url, why)
                self._streams = False
        wait = limits.whole_answer_wait_s(prompt_estimate, kwargs["max_tokens"])
        try:
            reply = await asyncio.wait_for(
                self.client.chat.completions.create(**kwargs, timeout=http_timeout(limits, wait)), wait)
        except (TimeoutError, APITimeoutError):
            raise TimedOut(f"no answer within {wait:.0f} s", prompt_estimate) from None
        return reply, 0

    async def _streamed(self, kwargs: dict[str, Any], limits: CallLimits, prompt_estimate: int,
                        on_progress: OnProgress | None) -> tuple[Any, int]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        first_wait = limits.first_token_wait_s(prompt_estimate)
        try:
            stream = await asyncio.wait_for(self.client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True},
                timeout=http_timeout(limits, max(first_wait, limits.stall_s))), first_wait)
        except (TimeoutError, APITimeoutError):
            raise TimedOut(f"no answer within {first_wait:.0f} s", prompt_estimate) from None
        except APIStatusError as exc:
            if exc.status_code in (400, 404, 415, 422, 501) and "stream" in str(exc).lower():
                raise _NoStream(describe(exc)) from None
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
                    raise TimedOut(what, prompt_estimate + chunks) from None
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
