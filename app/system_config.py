"""Run-time settings in the ``system_config`` table (key/value text).

This module owns that table's SQL. Values are stored as text, as the spec's
rollback statement (``UPDATE system_config SET value = 'false' WHERE key =
'agents_enabled'``) expects, and validated here on the way in so that a
bad value never reaches the table.

How the environment relates (see ``app/config.py``):

==================== ============================ ===========================
key                  seeded from                  overridden by
==================== ============================ ===========================
agents_enabled       'false' (migration)          ``AGENTS_ENABLED=false``
rollout_mode         'off' (migration)            -
rollout_percentage   '0' (migration)              -
rollout_salt         random (migration)           -
llm_model            ``LLM_MODEL``                -
daily_token_budget   ``AGENT_TOKEN_BUDGET_DAILY`` -
max_concurrent_tasks ``AGENT_MAX_CONCURRENT_TASKS`` -
llm_prices           spec prices (migrations 002, 006: input and output per model) -
llm_profile,         empty: the hosted profile's  ``LLM_PROFILE``, ``LLM_*_TIMEOUT_S``,
llm_*_timeout_s, …   (agents/llm_limits.py)       ``LLM_MAX_RETRIES``, ``LLM_MAX_TOKENS``
llm_tool_modes       found per model by the gateway -
==================== ============================ ===========================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from agents import system_config_table as table
from agents.prices import parse_prices, prices_json
from app.config import Config
from engine.errors import ConfigError

ROLLOUT_MODES = ("off", "shadow", "percentage", "full")


def _bool(value: str) -> str:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return "true"
    if lowered in ("false", "0", "no", "off"):
        return "false"
    raise ValueError("expected true or false")


def _int_range(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = int(value.strip().replace("_", "").replace(",", ""))
        except ValueError:
            raise ValueError(f"expected a whole number from {low:,} to {high:,}") from None
        if not low <= number <= high:
            raise ValueError(f"expected a whole number from {low:,} to {high:,}, got {number:,}")
        return str(number)

    return check


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value.strip() not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value.strip()

    return check


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _prices(value: str) -> str:
    return prices_json(parse_prices(value))


def _url_or_empty(value: str) -> str:
    from urllib.parse import urlsplit

    value = value.strip()
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise ValueError("expected an http(s) URL such as http://127.0.0.1:8080/v1, or nothing")
    return value


def _limit(key: str) -> Callable[[str], str]:
    """Empty means the profile's value; anything else must parse as ``agents/llm_limits.py`` reads it."""
    from agents.llm_limits import PARSERS

    def check(value: str) -> str:
        if not value.strip():
            return ""
        parsed = PARSERS[key](value)
        return f"{parsed:g}" if isinstance(parsed, float) else str(parsed)

    return check


def _tool_modes(value: str) -> str:
    import json

    try:
        modes = json.loads(value)
    except ValueError:
        raise ValueError('expected a JSON object such as {"gpt-4o-mini": "tools", "qwen2.5-coder": "json"}') from None
    if not isinstance(modes, dict) or any(v not in ("tools", "json") for v in modes.values()):
        raise ValueError('expected a JSON object of model -> "tools" or "json"')
    return json.dumps(modes, sort_keys=True)


VALIDATORS: dict[str, Callable[[str], str]] = {
    "agents_enabled": _bool,
    "rollout_mode": _choice(ROLLOUT_MODES),
    "rollout_percentage": _int_range(0, 100),
    "rollout_salt": _text,
    "llm_model": _text,
    "daily_token_budget": _int_range(10_000, 10_000_000),
    "max_concurrent_tasks": _int_range(1, 100),
    "llm_prices": _prices,
    "llm_base_url": _url_or_empty,
    "llm_profile": _limit("llm_profile"),
    "llm_first_token_timeout_s": _limit("llm_first_token_timeout_s"),
    "llm_stall_timeout_s": _limit("llm_stall_timeout_s"),
    "llm_max_retries": _limit("llm_max_retries"),
    "llm_max_tokens": _limit("llm_max_tokens"),
    "llm_tool_modes": _tool_modes,
}


def validate(key: str, value: str) -> str:
    """The normalised value, or ConfigError naming the key and what it expects."""
    check = VALIDATORS.get(key)
    if check is None:
        raise ConfigError(f"system_config has no setting {key!r}; known: {', '.join(VALIDATORS)}")
    try:
        return check(str(value))
    except ValueError as exc:
        raise ConfigError(f"system_config.{key} = {value!r}: {exc}") from None


async def seed_from_env(conn: asyncpg.Connection, config: Config) -> None:
    """Insert the env-seeded rows if absent; never overwrites an edited value."""
    rows = [
        ("llm_model", config.llm_model, "Model the agents use"),
        ("daily_token_budget", str(config.agent_token_budget_daily), "Tokens per day, all agents together"),
        ("max_concurrent_tasks", str(config.agent_max_concurrent_tasks), "Tasks one agent runs at once"),
    ]
    await table.seed(conn, rows)


get_all = table.get_all
get = table.get


async def set_value(conn: asyncpg.Connection | asyncpg.Pool, key: str, value: str) -> str:
    """Validate and store one setting; returns the stored (normalised) value."""
    normalised = validate(key, value)
    await table.put(conn, key, normalised)
    return normalised


@dataclass(frozen=True)
class AgentSwitch:
    """Whether agents may take new requests, and why."""

    enabled: bool
    reason: str


async def agents_switch(conn: asyncpg.Connection | asyncpg.Pool, config: Config) -> AgentSwitch:
    """Combine the env kill switch with the table's flag.

    Both rollback paths in the spec land here: the env ``AGENTS_ENABLED=false``
    wins over everything; otherwise ``system_config.agents_enabled`` decides.
    """
    if config.agents_killed:
        return AgentSwitch(False, "AGENTS_ENABLED=false in the environment (kill switch)")
    value = await get(conn, "agents_enabled")
    enabled = value is not None and value.strip().lower() == "true"
    return AgentSwitch(enabled, f"system_config.agents_enabled = {value!r}")
