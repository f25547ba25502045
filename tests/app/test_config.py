from pathlib import Path

import pytest

from app.config import load_config, redact_url
from engine.errors import ConfigError

ENV_VARS = [
    "AGENTS_ENABLED", "REDIS_STREAMS_URL", "VECTOR_DB_URL", "AGENT_MAX_CONCURRENT_TASKS",
    "AGENT_TOKEN_BUDGET_DAILY", "LLM_MODEL", "LLM_API_KEY", "LLM_BASE_URL", "POSTGRES_URL",
    "STAGEHAND_API_KEY", "AIWEBTEST_DATA_DIR", "AIWEBTEST_API_PORT",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def test_defaults_follow_the_spec() -> None:
    config = load_config(env_file=None)
    assert config.agents_enabled is None and not config.agents_killed
    assert config.agent_max_concurrent_tasks == 5
    assert config.agent_token_budget_daily == 1_000_000
    assert config.llm_model == "gpt-4o-mini"
    assert config.postgres_url is None and config.redis_streams_url is None
    assert config.aiwebtest_api_port == 8000
    assert config.data_dir.name == "aiwebtest"


def test_every_spec_variable_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = {
        "AGENTS_ENABLED": "false",
        "REDIS_STREAMS_URL": "redis://localhost:6379",
        "VECTOR_DB_URL": "http://localhost:6333",
        "AGENT_MAX_CONCURRENT_TASKS": "7",
        "AGENT_TOKEN_BUDGET_DAILY": "250000",
        "LLM_MODEL": "gpt-4o",
        "LLM_API_KEY": "sk-secret",
        "LLM_BASE_URL": "http://127.0.0.1:9000/v1",
        "POSTGRES_URL": "postgresql://u:p@db:5432/ai_web_test",
        "STAGEHAND_API_KEY": "sh-secret",
        "AIWEBTEST_DATA_DIR": str(tmp_path),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    config = load_config(env_file=None)
    assert config.agents_killed
    assert config.redis_streams_url == "redis://localhost:6379"
    assert config.agent_max_concurrent_tasks == 7
    assert config.agent_token_budget_daily == 250_000
    assert config.llm_model == "gpt-4o"
    assert config.llm_api_key is not None and config.llm_api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(config)
    assert config.llm_base_url == "http://127.0.0.1:9000/v1"
    assert config.stagehand_api_key is not None
    assert config.data_dir == tmp_path.resolve()


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("AGENT_TOKEN_BUDGET_DAILY=20000\nLLM_MODEL=gpt-4o\n")
    config = load_config(env_file=env)
    assert config.agent_token_budget_daily == 20_000
    assert config.llm_model == "gpt-4o"


def test_bad_number_names_variable_and_expectation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TOKEN_BUDGET_DAILY", "lots")
    with pytest.raises(ConfigError) as err:
        load_config(env_file=None)
    message = str(err.value)
    assert "AGENT_TOKEN_BUDGET_DAILY='lots'" in message
    assert "whole number from 10000 to 10000000" in message


def test_out_of_range_budget_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TOKEN_BUDGET_DAILY", "5")
    with pytest.raises(ConfigError, match="AGENT_TOKEN_BUDGET_DAILY='5'"):
        load_config(env_file=None)


def test_all_problems_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_URL", "mysql://db/x")
    monkeypatch.setenv("REDIS_STREAMS_URL", "http://nope")
    monkeypatch.setenv("AGENTS_ENABLED", "perhaps")
    monkeypatch.setenv("AIWEBTEST_API_PORT", "70000")
    with pytest.raises(ConfigError) as err:
        load_config(env_file=None)
    message = str(err.value)
    for var, expects in [
        ("POSTGRES_URL", "postgresql://"),
        ("REDIS_STREAMS_URL", "redis://"),
        ("AGENTS_ENABLED", "true or false"),
        ("AIWEBTEST_API_PORT", "TCP port"),
    ]:
        assert var in message and expects in message


def test_llm_base_url_needs_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", "http://")
    with pytest.raises(ConfigError, match="LLM_BASE_URL.*no host"):
        load_config(env_file=None)


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_URL", "")
    monkeypatch.setenv("AGENTS_ENABLED", " ")
    config = load_config(env_file=None)
    assert config.postgres_url is None
    assert config.agents_enabled is None


def test_redact_url_hides_password() -> None:
    assert redact_url("postgresql://u:hunter2@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert redact_url("redis://localhost:6379") == "redis://localhost:6379"


def test_model_call_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: the limits are settings; set in the environment they win, and a bad one is named."""
    monkeypatch.setenv("LLM_PROFILE", "local")
    monkeypatch.setenv("LLM_STALL_TIMEOUT_S", "300")
    assert load_config(env_file=None).llm_limits_env == {"llm_profile": "local", "llm_stall_timeout_s": "300.0"}
    monkeypatch.setenv("LLM_PROFILE", "fast")
    monkeypatch.setenv("LLM_MAX_RETRIES", "99")
    with pytest.raises(ConfigError) as err:
        load_config(env_file=None)
    assert "LLM_PROFILE='fast'" in str(err.value) and "expected hosted or local" in str(err.value)
    assert "LLM_MAX_RETRIES='99'" in str(err.value) and "from 0 to 10" in str(err.value)
