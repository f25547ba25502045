"""How long a re-sent model call waits, and how a failure is said."""

from __future__ import annotations

import httpx
from openai import APIStatusError
from tenacity import RetryCallState

from agents.llm_retry import backoff_wait, describe


def _state(exc: BaseException) -> RetryCallState:
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.attempt_number = 2
    state.set_exception((type(exc), exc, None))
    return state


def _status(code: int, retry_after: str | None) -> APIStatusError:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    response = httpx.Response(code, headers=headers, request=httpx.Request("POST", "http://127.0.0.1/v1"))
    return APIStatusError("slow down", response=response, body=None)


def test_the_servers_retry_after_is_kept_capped_at_a_minute_else_the_back_off_is_jittered() -> None:
    assert backoff_wait(_state(_status(429, "7"))) == 7.0
    assert backoff_wait(_state(_status(429, "3600"))) == 60.0
    assert 0 <= backoff_wait(_state(_status(429, "soon"))) <= 30  # unreadable: tenacity's own back-off
    assert describe(_status(503, None)) == "503: slow down"
    assert describe(TimeoutError("no answer")) == "TimeoutError: no answer"
