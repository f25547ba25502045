"""The Settings view's and the settings dialog's service: execution settings, the system_config
table, model prices and limits, the API key in the OS keyring, and a connection test.

Every method returns plain data or raises ``ConfigError`` with a message for the user.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from agents.llm_budget import price_table
from agents.llm_gateway import KEYRING_SERVICE, KEYRING_USER
from agents.prices import ModelPrice
from app import system_config
from app.config import Config
from engine import settings_store
from engine.errors import ConfigError, require
from engine.settings_store import SettingsUpdate


class SettingsService:
    def __init__(self, pool: asyncpg.Pool | None, config: Config, engine: Any | None) -> None:
        """``pool`` None: only the answers that need no database (notes, limits, keyring) work."""
        self._pool = pool
        self.config = config
        self.engine = engine

    @property
    def pool(self) -> asyncpg.Pool:
        return require(self._pool)  # type: ignore[return-value]

    async def execution_settings(self) -> dict[str, Any]:
        return (await settings_store.load(self.pool)).model_dump()

    async def update_execution_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        try:
            change = SettingsUpdate(**changes)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"execution_settings.{field}: {err['msg']} (got {err.get('input')!r})") from None
        return (await settings_store.update(self.pool, change)).model_dump()

    def browser_backend_note(self, choice: str) -> str:
        """What a browser_backend choice comes to here: who heals browser tests and where Stagehand runs."""
        stagehand = self.config.stagehand
        lead = "" if choice != "auto" else \
            f"Auto: STAGEHAND_API_KEY is {'set' if stagehand.api_key else 'unset'}, so "
        if stagehand.backend_for(choice) == "ours":
            return lead + ("our own healer (element fingerprints from the last passing run) and our own agent "
                           "heal and carry out browser tests.")
        if self.engine is None or self.engine.llm is None:
            return lead + ("Stagehand needs a model and none is configured (Settings dialog, Ctrl+,): until "
                           "then our own healer and agent heal and carry out browser tests.")
        return lead + (f"Stagehand heals and carries out browser tests on {stagehand.where}, with your model "
                       "and budget; if it cannot start, our own healer and agent take over.")

    async def system_config(self) -> dict[str, str]:
        return await system_config.get_all(self.pool)

    async def set_system_config(self, key: str, value: str) -> str:
        return await system_config.set_value(self.pool, key, value)

    async def prices(self) -> dict[str, ModelPrice]:
        """The price table in force (stored over the defaults)."""
        return await price_table(self.pool)

    def llm_limits_env(self) -> dict[str, str]:
        """The model call limits the environment sets: they win over the dialog's, which says so."""
        return self.config.llm_limits_env

    @staticmethod
    def describe_llm_limits(values: dict[str, str]) -> str:
        """The limits these values make, in one sentence (or what is wrong with them)."""
        from agents.llm_limits import limits_of

        try:
            return limits_of(values).describe()
        except ValueError as exc:
            return str(exc)

    @staticmethod
    def first_token_wait_s(values: dict[str, str]) -> float:
        """How long these limits wait for a first token (the connection test waits as long)."""
        from agents.llm_limits import PROFILES, limits_of

        try:
            return limits_of(values).first_token_s
        except ValueError:
            return PROFILES["hosted"].first_token_s

    @staticmethod
    def keyring_state() -> dict[str, Any]:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        usable = not isinstance(backend, fail.Keyring)
        stored = False
        if usable:
            try:
                stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER) is not None
            except Exception:  # noqa: BLE001 - a locked or broken keyring is "not usable"
                usable = False
        return {"usable": usable, "stored": stored, "backend": type(backend).__name__}

    @staticmethod
    def store_api_key(key: str) -> None:
        import keyring

        try:
            if key:
                keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
            else:
                keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(
                f"The OS keyring could not store the key ({type(exc).__name__}). On a machine without a "
                "keyring, set LLM_API_KEY in the environment instead."
            ) from None

    @staticmethod
    async def test_connection(base_url: str, api_key: str | None, model: str, timeout_s: float = 10.0) -> str:
        """What the endpoint answered to a one-token request, in words.

        The one model call outside the gateway: it probes values not saved yet (a URL, a key), and
        its few tokens are not worth a budget row. ``timeout_s``: the profile's first-token wait,
        so a local model loading its weights is not called dead."""
        from openai import APIStatusError, AsyncOpenAI

        client = AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=0, timeout=timeout_s)
        try:
            started = time.perf_counter()
            reply = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "ping"}], max_tokens=1)
            ms = (time.perf_counter() - started) * 1000
            return f"OK: {base_url} answered as {reply.model} in {ms:.0f} ms"
        except APIStatusError as exc:
            return f"The endpoint answered {exc.status_code}: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - every failure is a sentence for the dialog
            return f"No answer from {base_url}: {type(exc).__name__}: {exc}"
        finally:
            await client.close()
