"""Stagehand's browser with our gateway as its model: start-up failures in words, JSON answers, refusals."""

import asyncpg
import pytest

from agents.constants import budget_key
from agents.llm_budget import today
from app import system_config
from engine.stagehand_session import StagehandSession, StagehandSettings, StagehandUnavailable, parse_json_answer
from tests.conftest import needs_chromium
from tests.helpers.llm_server import ScriptedLLM
from tests.helpers.web import LocalSite, form_page


async def observe_and_fail(llm_gateway, local_site: LocalSite) -> StagehandSession:
    """One observe on the form page that must fail; the closed session, to read what it kept."""
    local_site.pages["/"] = form_page("submit")
    session = StagehandSession(StagehandSettings(), llm_gateway, purpose="test")
    async with session:
        page = await session.page()
        await page.goto(local_site.url("/"))
        with pytest.raises(Exception):  # noqa: B017 - Stagehand's RPC error type is its own
            await session.stagehand.observe("the Send button", page=page)
    return session


@pytest.mark.parametrize("answer", [
    '{"elements": []}',
    '```json\n{"elements": []}\n```',  # fenced, as small models answer
    'Here is the element:\n{"elements": []}\nHope that helps.',
])
def test_the_json_object_is_taken_from_the_answer(answer: str) -> None:
    assert parse_json_answer(answer) == {"elements": []}


@pytest.mark.parametrize("answer", ["I cannot find it.", "[1, 2]"])
def test_an_answer_without_a_json_object_is_refused_in_words(answer: str) -> None:
    with pytest.raises(ValueError, match="the model's answer is"):
        parse_json_answer(answer)


async def test_an_unreachable_browserbase_is_named_with_what_to_change(llm_gateway, free_port: int) -> None:
    settings = StagehandSettings(api_key="bb_key", api_url=f"http://127.0.0.1:{free_port}")
    with pytest.raises(StagehandUnavailable) as caught:
        async with StagehandSession(settings, llm_gateway, purpose="test"):
            pass
    assert str(caught.value) == (
        f"Browserbase at http://127.0.0.1:{free_port} could not be reached: check STAGEHAND_API_URL and the "
        "network, or unset STAGEHAND_API_KEY to run Stagehand on this machine's Chromium")
    assert "bb_key" not in repr(settings)  # the key stays out of logs


async def test_a_missing_chromium_is_named(llm_gateway) -> None:
    with pytest.raises(StagehandUnavailable, match="Stagehand could not start Chromium at /nonexistent/chromium"):
        async with StagehandSession(StagehandSettings(chromium="/nonexistent/chromium"), llm_gateway, purpose="test"):
            pass


@needs_chromium
async def test_a_budget_refusal_inside_stagehand_is_kept_for_the_tier(
    pool: asyncpg.Pool, local_site: LocalSite, scripted_llm: ScriptedLLM, llm_gateway
) -> None:
    """Stagehand turns the callback's exception into its own error; the gateway's words are kept beside it."""
    await system_config.set_value(pool, "daily_token_budget", "10000")
    await llm_gateway.redis.incrby(budget_key(today()), 10_000)  # the day's budget is spent
    session = await observe_and_fail(llm_gateway, local_site)
    assert session.refused is not None and "budget" in str(session.refused)
    assert scripted_llm.requests == [] and session.usage.as_json()["prompt"] == 0


@needs_chromium
async def test_an_answer_stagehand_cannot_use_is_said_in_words(
    local_site: LocalSite, scripted_llm: ScriptedLLM, llm_gateway
) -> None:
    """Stagehand reports a failed callback as "RPCError: ["; the tier says what the model answered."""
    scripted_llm.script = [{"content": "I am sorry, I cannot see a button.", "usage": (700, 9)}]
    session = await observe_and_fail(llm_gateway, local_site)
    assert session.take_error() == "the model's answer is not JSON: 'I am sorry, I cannot see a button.'"
    assert session.take_error() is None  # said once
    assert session.usage.as_json()["prompt"] == 700  # the unusable answer was still paid for
