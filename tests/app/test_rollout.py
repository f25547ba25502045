"""The rollout as one state: one sentence for where requests go, reviewed changes with an audit trail."""

from __future__ import annotations

import pytest

from engine.generate_request import GenerateRequest
from app.rollout import RolloutService, RolloutState
from tests.conftest import make_config


@pytest.mark.parametrize("state, sentence", [
    (RolloutState(False, True, True, "full", 100), "AGENTS_ENABLED=false in this process's environment"),
    (RolloutState(False, False, False, "full", 51), "the agents are switched off. Once switched on, all will then go"),
    (RolloutState(False, False, False, "off", 51), "switched off. Once switched on, mode off keeps them on Phase 2"),
    (RolloutState(True, True, False, "off", 51), "New requests go to Phase 2: rollout mode off."),
    (RolloutState(True, True, False, "percentage", 51), "51 % of new requests go to the agents"),
    (RolloutState(True, True, False, "full", 51), "Every new request goes to the agents (full)."),
    (RolloutState(True, True, False, "shadow", 0), "the agents get a copy to compare"),
])
def test_where_new_requests_go_in_one_sentence(state: RolloutState, sentence: str) -> None:
    assert sentence in state.where
    if state.mode != "percentage":
        assert "51 %" not in state.where or not state.flag  # no percentage where it decides nothing


async def test_changes_are_reviewed_then_audited_with_who_and_reach(pool, redis_client, data_dir) -> None:
    service = RolloutService(pool, redis_client, make_config(data_dir), front_end="test")
    changes = await service.changes("percentage", 30, True)
    assert [c.describe() for c in changes] == ["rollout_mode: off → percentage", "rollout_percentage: 0 → 30",
                                               "agents_enabled: false → true"]
    assert (await service.state()).mode == "off"  # reviewing writes nothing
    report = await service.apply("percentage", 30, True)
    assert report["changes"] == [c.describe() for c in changes]
    state = await service.state()
    assert (state.mode, state.percentage, state.agents_enabled) == ("percentage", 30, True)
    assert await service.changes("percentage", 30, True) == []
    await service.rollback(wait_s=0.2)
    audit = await service.audit()
    assert [(a["setting"], a["old_value"], a["new_value"]) for a in audit] == [
        ("agents_enabled", "true", "false"), ("agents_enabled", "false", "true"),
        ("rollout_percentage", "0", "30"), ("rollout_mode", "off", "percentage")]
    assert all("(pid " in a["actor"] and a["actor"].endswith("test)") for a in audit)
    with pytest.raises(Exception, match="rollout_percentage"):
        await service.changes("percentage", 130)


async def test_an_explicit_agents_request_after_rollback_says_the_rollback_did_not_apply(generation, sample_repo) -> None:
    submitted = await generation.submit(GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py"]), use_agents=True)
    assert submitted["route"] == "agents"
    assert "the agents are switched off" in submitted["reason"]
    assert "a rollback does not apply to requests that name the agents" in submitted["reason"]
