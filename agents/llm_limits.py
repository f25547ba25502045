"""How long a model call may take, how often it is re-sent, how long its answer may be.

Fixed at 60 s and 3 retries, a local model on a 2-core machine could not
answer at all: it needs longer than that just to read a 2,400-token prompt,
and each retry re-sent the prompt while the server still worked on the
abandoned one (issue 16). So the limits are settings, with two profiles:

* ``hosted``: answers start within a minute; a time-out is worth a retry.
* ``local``: the wait for the first token grows with the prompt (a server
  reading ``slowest_tokens_per_s`` tokens a second must be given time to read it),
  and a time-out is never re-sent: the server may still be busy with it.

Streamed answers are watched for silence (``stall_s``), not for total time:
a slow model that keeps writing is never cut off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

PROFILES_TEXT = ("hosted", "local")

# system_config keys (and the environment variables that win over them).
KEYS = {
    "llm_profile": "LLM_PROFILE",
    "llm_first_token_timeout_s": "LLM_FIRST_TOKEN_TIMEOUT_S",
    "llm_stall_timeout_s": "LLM_STALL_TIMEOUT_S",
    "llm_max_retries": "LLM_MAX_RETRIES",
    "llm_max_tokens": "LLM_MAX_TOKENS",
}


@dataclass(frozen=True)
class CallLimits:
    profile: str
    connect_s: float
    first_token_s: float  # wait for the first token, on top of the prompt's reading time
    slowest_tokens_per_s: float  # 0: do not scale waits with the prompt or answer length
    stall_s: float  # longest silence between streamed chunks
    max_retries: int  # re-sends after a failure the server did not take the prompt for (429, 5xx, refused)
    resend_after_timeout: bool  # re-send a prompt that timed out (the server may still be working on it)
    max_tokens: int

    def first_token_wait_s(self, prompt_tokens: int) -> float:
        """The wait for the first token of an answer to a prompt this long."""
        reading = prompt_tokens / self.slowest_tokens_per_s if self.slowest_tokens_per_s > 0 else 0.0
        return self.first_token_s + reading

    def whole_answer_wait_s(self, prompt_tokens: int, max_tokens: int) -> float:
        """Without streaming nothing shows progress: the first-token wait plus writing the longest answer."""
        writing = max_tokens / self.slowest_tokens_per_s if self.slowest_tokens_per_s > 0 else self.stall_s
        return self.first_token_wait_s(prompt_tokens) + writing

    def describe(self) -> str:
        resend = ("never re-sent" if not self.max_retries else "re-sent after a time-out"
                  if self.resend_after_timeout else "never re-sent after a time-out")
        scale = (f" + the prompt at {self.slowest_tokens_per_s:g} tokens/s" if self.slowest_tokens_per_s else "")
        return (f"{self.profile} profile: first token within {self.first_token_s:g} s{scale}, at most "
                f"{self.stall_s:g} s of silence, {self.max_retries} retries, {resend}, answers up to "
                f"{self.max_tokens:,} tokens")


PROFILES: dict[str, CallLimits] = {
    "hosted": CallLimits("hosted", connect_s=10, first_token_s=60, slowest_tokens_per_s=0, stall_s=30,
                         max_retries=3, resend_after_timeout=True, max_tokens=2048),
    "local": CallLimits("local", connect_s=10, first_token_s=120, slowest_tokens_per_s=5, stall_s=120,
                        max_retries=2, resend_after_timeout=False, max_tokens=1024),
}


def _seconds(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"expected seconds from 1 to 3600, got {value.strip()!r}") from None
    if not 1 <= number <= 3600:
        raise ValueError(f"expected seconds from 1 to 3600, got {number:g}")
    return number


def _count(low: int, high: int):  # noqa: ANN202 - a validator factory
    def check(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"expected a whole number from {low:,} to {high:,}, got {value.strip()!r}") from None
        if not low <= number <= high:
            raise ValueError(f"expected a whole number from {low:,} to {high:,}, got {number:,}")
        return number

    return check


def _profile(value: str) -> str:
    if value.strip() not in PROFILES:
        raise ValueError(f"expected one of {', '.join(PROFILES)}")
    return value.strip()


PARSERS: dict[str, Any] = {
    "llm_profile": _profile,
    "llm_first_token_timeout_s": _seconds,
    "llm_stall_timeout_s": _seconds,
    "llm_max_retries": _count(0, 10),
    "llm_max_tokens": _count(16, 65_536),
}

_FIELD = {"llm_first_token_timeout_s": "first_token_s", "llm_stall_timeout_s": "stall_s",
          "llm_max_retries": "max_retries", "llm_max_tokens": "max_tokens"}


def limits_of(values: dict[str, str]) -> CallLimits:
    """The limits from stored (or environment) values; an empty value means the profile's.

    Values were validated on the way in (``app/system_config.py``), so a bad one here is
    a hand-edited row: it raises ValueError naming the key.
    """
    base = PROFILES[PARSERS["llm_profile"](values.get("llm_profile") or "hosted")]
    changes: dict[str, Any] = {}
    for key, attribute in _FIELD.items():
        raw = (values.get(key) or "").strip()
        if raw:
            try:
                changes[attribute] = PARSERS[key](raw)
            except ValueError as exc:
                raise ValueError(f"{key} = {raw!r}: {exc}") from None
    return replace(base, **changes)
