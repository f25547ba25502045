import asyncpg
import pytest

from app import system_config
from engine.errors import ConfigError
from tests.conftest import make_config


async def test_seed_from_env_fills_but_never_overwrites(conn: asyncpg.Connection, data_dir) -> None:
    await system_config.seed_from_env(conn, make_config(data_dir, llm_model="gpt-4o", agent_token_budget_daily=50_000))
    values = await system_config.get_all(conn)
    assert values["llm_model"] == "gpt-4o"
    assert values["daily_token_budget"] == "50000"
    assert values["max_concurrent_tasks"] == "5"
    await system_config.set_value(conn, "llm_model", "gpt-4o-mini")
    await system_config.seed_from_env(conn, make_config(data_dir, llm_model="something-else"))
    assert await system_config.get(conn, "llm_model") == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("daily_token_budget", "5", "from 10,000 to 10,000,000, got 5"),
        ("daily_token_budget", "many", "whole number"),
        ("rollout_mode", "sideways", "off, shadow, percentage, full"),
        ("rollout_percentage", "101", "from 0 to 100"),
        ("agents_enabled", "maybe", "true or false"),
        ("llm_model", "  ", "must not be empty"),
        ("llm_profile", "turbo", "expected one of hosted, local"),
        ("llm_stall_timeout_s", "-5", "expected seconds from 1 to 3600"),
        ("llm_first_token_timeout_s", "nan", "expected seconds from 1 to 3600"),
        ("llm_max_tokens", "1e9", "expected a whole number from 16 to 65,536, got '1e9'"),
        ("llm_tool_modes", '{"m": "telepathy"}', '"tools" or "json"'),
    ],
)
async def test_bad_values_are_refused_with_the_key_named(
    conn: asyncpg.Connection, key: str, value: str, fragment: str
) -> None:
    before = await system_config.get(conn, key)
    with pytest.raises(ConfigError) as err:
        await system_config.set_value(conn, key, value)
    assert f"system_config.{key}" in str(err.value)
    assert fragment in str(err.value)
    assert await system_config.get(conn, key) == before


async def test_unknown_key_is_refused(conn: asyncpg.Connection) -> None:
    with pytest.raises(ConfigError, match="no setting 'colour'"):
        await system_config.set_value(conn, "colour", "blue")


async def test_values_are_normalised(conn: asyncpg.Connection) -> None:
    assert await system_config.set_value(conn, "agents_enabled", "Yes") == "true"
    assert await system_config.set_value(conn, "daily_token_budget", "2_000_000") == "2000000"
    assert await system_config.get(conn, "daily_token_budget") == "2000000"
    assert await system_config.set_value(conn, "llm_stall_timeout_s", " 90 ") == "90"
    assert await system_config.set_value(conn, "llm_max_retries", "") == ""  # empty: the profile's


async def test_flag_in_table_decides_when_env_is_silent(conn: asyncpg.Connection, data_dir) -> None:
    config = make_config(data_dir)
    assert not (await system_config.agents_switch(conn, config)).enabled
    await system_config.set_value(conn, "agents_enabled", "true")
    assert (await system_config.agents_switch(conn, config)).enabled


async def test_rollback_path_1_sql_update_turns_agents_off(conn: asyncpg.Connection, data_dir) -> None:
    config = make_config(data_dir)
    await system_config.set_value(conn, "agents_enabled", "true")
    # The spec's rollback statement, verbatim.
    await conn.execute("UPDATE system_config SET value = 'false' WHERE key = 'agents_enabled';")
    switch = await system_config.agents_switch(conn, config)
    assert not switch.enabled
    assert "system_config.agents_enabled" in switch.reason


async def test_rollback_path_2_env_kill_switch_beats_the_table(conn: asyncpg.Connection, data_dir) -> None:
    await system_config.set_value(conn, "agents_enabled", "true")
    switch = await system_config.agents_switch(conn, make_config(data_dir, agents_enabled=False))
    assert not switch.enabled
    assert "kill switch" in switch.reason
    # AGENTS_ENABLED=true does not force agents on: the table still decides.
    await system_config.set_value(conn, "agents_enabled", "false")
    assert not (await system_config.agents_switch(conn, make_config(data_dir, agents_enabled=True))).enabled
