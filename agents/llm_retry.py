"""When a model call is sent again, how long it waits first, and how its failure is said.

tenacity's jittered exponential back-off, or the server's ``retry-after`` when it gives one; httpx's own
time-outs stay a backstop behind the gateway's (agents/llm_gateway.py), which say what timed out.
"""

from __future__ import annotations

import httpx
from openai import APIStatusError
from tenacity import RetryCallState, wait_random_exponential

from agents.llm_limits import CallLimits


def http_timeout(limits: CallLimits, read_s: float) -> httpx.Timeout:
    """httpx's own time-outs are a backstop behind ours (asyncio), which say what timed out."""
    return httpx.Timeout(connect=limits.connect_s, read=read_s + 5, write=60, pool=60)


_BACKOFF = wait_random_exponential(multiplier=0.5, max=30)


def backoff_wait(state: RetryCallState) -> float:
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


def describe(exc: BaseException | None) -> str:
    if isinstance(exc, APIStatusError):
        return f"{exc.status_code}: {exc.message}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300] if exc else "unknown"
