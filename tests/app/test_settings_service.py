"""The settings service's plain answers (those that need no database)."""

from types import SimpleNamespace

import pytest

from app.config import load_config
from app.settings_service import SettingsService


def settings_with(*, stagehand_key: str | None, model: bool) -> SettingsService:
    """What browser_backend_note reads: the config and whether the engine has a model."""
    config = load_config(None, stagehand_api_key=stagehand_key, stagehand_api_url="https://bb.example")
    return SettingsService(None, config, SimpleNamespace(llm=object() if model else None))


@pytest.mark.parametrize("choice, key, model, expected", [
    ("auto", None, True, "Auto: STAGEHAND_API_KEY is unset, so our own healer (element fingerprints"),
    ("auto", "bb_key", True, "Auto: STAGEHAND_API_KEY is set, so Stagehand heals and carries out browser tests on "
                             "a Browserbase browser (https://bb.example), with your model and budget"),
    ("auto", "bb_key", False, "Auto: STAGEHAND_API_KEY is set, so Stagehand needs a model and none is configured"),
    ("stagehand", None, True, "Stagehand heals and carries out browser tests on Chromium at /usr/bin/chromium"),
    ("ours", "bb_key", True, "our own healer (element fingerprints from the last passing run)"),
])
def test_the_browser_backend_note_says_what_the_choice_comes_to(choice: str, key: str | None, model: bool,
                                                                 expected: str) -> None:
    assert settings_with(stagehand_key=key, model=model).browser_backend_note(choice).startswith(expected)
