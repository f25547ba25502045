"""Process configuration from the environment and ``.env``.

Two kinds of setting exist, and the split matters for rollback:

* **Process settings** live here: where the servers are, secrets, the data
  dir, the API port. They are read once at start.
* **Run-time settings** live in the ``system_config`` table (see
  ``app/system_config.py``): the agent flag, rollout mode and percentage,
  model, daily token budget, concurrency. They can change while the app
  runs. ``LLM_MODEL``, ``AGENT_TOKEN_BUDGET_DAILY`` and
  ``AGENT_MAX_CONCURRENT_TASKS`` only *seed* those rows the first time a
  database is migrated; after that the table wins.

``AGENTS_ENABLED`` is the one process setting that overrides the table:
``false`` is a kill switch that keeps agents off whatever
``system_config.agents_enabled`` says. ``true`` or unset leaves the
decision to the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.constants import DEFAULT_DAILY_TOKEN_BUDGET
from app.paths import default_data_dir
from engine.errors import ConfigError
from engine.stagehand_session import StagehandSettings

_EXPECTS: dict[str, str] = {
    "agents_enabled": "true or false",
    "redis_streams_url": "a redis://, rediss:// or unix:// URL",
    "vector_db_url": "an http(s) URL",
    "agent_max_concurrent_tasks": "a whole number from 1 to 100",
    "agent_token_budget_daily": "a whole number from 10000 to 10000000",
    "agent_lease_s": "seconds from 1 to 600",
    "agent_max_attempts": "a whole number from 1 to 100",
    "llm_model": "a model name such as gpt-4o-mini",
    "llm_base_url": "an http(s) URL of an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1",
    "postgres_url": "a postgresql:// URL",
    "aiwebtest_data_dir": "a folder path",
    "aiwebtest_api_port": "a TCP port from 0 (any free port) to 65535",
    "aiwebtest_api_host": "an address to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (a container)",
    "aiwebtest_api_allowed_hosts": "a comma list of host names, e.g. aiwebtest-api,aiwebtest-api.production",
    "phase2_api_url": "an http(s) URL of a Phase 2 API, e.g. http://127.0.0.1:8000",
    "stagehand_api_url": "an http(s) URL of the Browserbase API, e.g. https://api.browserbase.com",
    "llm_profile": "hosted or local",
    "llm_first_token_timeout_s": "seconds from 1 to 3600",
    "llm_stall_timeout_s": "seconds from 1 to 3600",
    "llm_max_retries": "a whole number from 0 to 10",
    "llm_max_tokens": "a whole number from 16 to 65536",
    "aiwebtest_install_undeclared": "true or false",
    "aiwebtest_agents": "all, none, or a comma list of orchestration, observation, requirements, "
    "analysis, evolution, reporting",
}


class Config(BaseSettings):
    """Typed process settings; field names are the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    agents_enabled: bool | None = None
    redis_streams_url: str | None = None
    # A Qdrant server for working memory's vectors (agents/vector_store.py); unset: pgvector in PostgreSQL.
    vector_db_url: str | None = None
    vector_db_api_key: SecretStr | None = None
    agent_max_concurrent_tasks: int = Field(5, ge=1, le=100)
    agent_token_budget_daily: int = Field(DEFAULT_DAILY_TOKEN_BUDGET, ge=10_000, le=10_000_000)
    # How long a task stays with a worker that stopped renewing its lease (died or stalled).
    # Longer than a database restart: renewals cannot reach it meanwhile.
    agent_lease_s: float = Field(20.0, ge=1.0, le=600.0)
    # How many times a task may start (its worker died or stalled each time) before it is failed
    # and dead-lettered: a task that kills every worker it lands on must not take them all down.
    agent_max_attempts: int = Field(5, ge=1, le=100)
    llm_model: str = Field("gpt-4o-mini", min_length=1, max_length=100)
    llm_api_key: SecretStr | None = None
    llm_base_url: str | None = None
    # Model call limits (agents/llm_limits.py); set here they win over the Settings dialog's.
    llm_profile: Literal["hosted", "local"] | None = None
    llm_first_token_timeout_s: float | None = Field(None, ge=1, le=3600)
    llm_stall_timeout_s: float | None = Field(None, ge=1, le=3600)
    llm_max_retries: int | None = Field(None, ge=0, le=10)
    llm_max_tokens: int | None = Field(None, ge=16, le=65_536)
    postgres_url: str | None = None
    # Stagehand's browser (engine/stagehand_session.py): with a key, Browserbase's hosted one (their API
    # at STAGEHAND_API_URL if set); without, this machine's Chromium. Either way our model answers.
    stagehand_api_key: SecretStr | None = None
    stagehand_api_url: str | None = None
    aiwebtest_data_dir: Path | None = None
    aiwebtest_api_port: int = Field(8000, ge=0, le=65535)  # 0: any free port
    # Where the API listens: this machine only unless a container serves it to its cluster (0.0.0.0).
    aiwebtest_api_host: str = Field("127.0.0.1", pattern=r"^[0-9A-Za-z.:\[\]-]{1,100}$")
    # Host names requests may be addressed to besides 127.0.0.1/localhost (a cluster's Service name), comma list.
    aiwebtest_api_allowed_hosts: str = Field("", pattern=r"^[0-9A-Za-z.,:\[\] -]{0,1000}$")
    # Evolution calls Phase 2 over HTTP at this URL; unset: in-process.
    phase2_api_url: str | None = None
    # Embeddings model on the LLM endpoint for working memory; unset: the local embedder.
    aiwebtest_embeddings_model: str | None = None
    # Which agent types this process runs: "all", "none", or a comma list.
    aiwebtest_agents: str = "all"
    # Install what a repository imports and declares nowhere (engine/undeclared_imports.py); false: never.
    aiwebtest_install_undeclared: bool = True
    # The local API's bearer token; unset: the one kept in the data dir (app/api_token.py).
    aiwebtest_api_token: SecretStr | None = None

    @field_validator(
        "redis_streams_url", "vector_db_url", "llm_base_url", "postgres_url", "agents_enabled", "phase2_api_url",
        "stagehand_api_url",
        "llm_profile", "llm_first_token_timeout_s", "llm_stall_timeout_s", "llm_max_retries", "llm_max_tokens",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("redis_streams_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        return _check_scheme(value, ("redis", "rediss", "unix"))

    @field_validator("postgres_url")
    @classmethod
    def _postgres_scheme(cls, value: str | None) -> str | None:
        return _check_scheme(value, ("postgresql", "postgres"))

    @field_validator("aiwebtest_agents")
    @classmethod
    def _agent_list(cls, value: str) -> str:
        from agents.constants import AGENT_TYPES

        names = [v.strip() for v in value.split(",") if v.strip()]
        if names in (["all"], ["none"]):
            return names[0]
        unknown = [n for n in names if n not in AGENT_TYPES]
        if unknown or not names:
            raise ValueError(f"unknown agent type(s) {', '.join(unknown) or '(none given)'}")
        return ",".join(names)

    @property
    def agent_types(self) -> list[str]:
        from agents.constants import AGENT_TYPES

        if self.aiwebtest_agents == "all":
            return list(AGENT_TYPES)
        if self.aiwebtest_agents == "none":
            return []
        return self.aiwebtest_agents.split(",")

    @field_validator("llm_base_url", "vector_db_url", "phase2_api_url", "stagehand_api_url")
    @classmethod
    def _http_scheme(cls, value: str | None) -> str | None:
        checked = _check_scheme(value, ("http", "https"))
        if checked is not None and not urlsplit(checked).netloc:
            raise ValueError("the URL has no host")
        return checked

    @property
    def data_dir(self) -> Path:
        return (self.aiwebtest_data_dir or default_data_dir()).expanduser().resolve()

    @property
    def api_allowed_hosts(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.aiwebtest_api_allowed_hosts.split(",") if h.strip())

    def api_token(self) -> str:
        """The API's bearer token: ``AIWEBTEST_API_TOKEN``, else the data dir's (made on first use)."""
        if self.aiwebtest_api_token is not None:
            return self.aiwebtest_api_token.get_secret_value()
        from app.api_token import ensure_token

        return ensure_token(self.data_dir)

    @property
    def llm_limits_env(self) -> dict[str, str]:
        """The model call limits the environment sets, keyed like their ``system_config`` rows."""
        values = {"llm_profile": self.llm_profile, "llm_first_token_timeout_s": self.llm_first_token_timeout_s,
                  "llm_stall_timeout_s": self.llm_stall_timeout_s, "llm_max_retries": self.llm_max_retries,
                  "llm_max_tokens": self.llm_max_tokens}
        return {k: str(v) for k, v in values.items() if v is not None}

    @property
    def stagehand(self) -> StagehandSettings:
        """Where Stagehand's browser runs, for the engine (which uses it when browser_backend picks it)."""
        key = self.stagehand_api_key.get_secret_value() if self.stagehand_api_key else None
        return StagehandSettings(api_key=key or None, api_url=self.stagehand_api_url)

    @property
    def agents_killed(self) -> bool:
        """True when the environment's kill switch forces agents off."""
        return self.agents_enabled is False


def _check_scheme(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise ValueError(f"the URL scheme is {scheme or 'missing'!r}")
    return value


def load_config(env_file: str | Path | None = ".env", **overrides: Any) -> Config:
    """Read the settings, turning validation failures into one ConfigError.

    The message lists every bad variable with its value and what it expects,
    so a user fixes them all in one go rather than one per start.
    """
    try:
        return Config(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            shown = err.get("input")
            if field in ("llm_api_key", "stagehand_api_key", "aiwebtest_api_token", "vector_db_api_key"):
                shown = "(hidden)"
            reason = err["msg"].removeprefix("Value error, ")
            problems.append(
                f"{field.upper()}={shown!r}: {reason}; expected {_EXPECTS.get(field, 'a valid value')}"
            )
        raise ConfigError("Bad configuration:\n  " + "\n  ".join(problems)) from None


def redact_url(url: str) -> str:
    """The URL with any password replaced, for status lines and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else f":***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
