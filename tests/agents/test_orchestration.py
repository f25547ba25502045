"""Orchestration of a whole-repository request: one evolve step per module, one result listing them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.generation import GenerationService
from engine.generate_request import GenerateRequest
from tests.conftest import make_config
from tests.helpers.llm_server import ScriptedLLM
from tests.helpers.shop_repo import MODULES, UNTESTED, make_shop, answer_for_module


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_shop(tmp_path)


@pytest.mark.slow
async def test_a_whole_repository_request_gives_every_module_without_tests_its_own_step_and_row(
        agent_host, agent_services, scripted_llm: ScriptedLLM, shop: Path, data_dir: Path) -> None:
    from agents.llm_gateway import GatewaySettings, LLMGateway

    agent_services.gateway = LLMGateway(agent_services.pool, agent_services.redis,
                                        GatewaySettings(scripted_llm.base_url, "gpt-4o-mini", "sk-test"))
    scripted_llm.default = {"reply": answer_for_module}
    service = GenerationService(agent_services.pool, make_config(data_dir), agent_services)
    request = GenerateRequest.parse({"repository_url": str(shop), "target_files": ["*"], "coverage_target": 0.9,
                                     "max_rounds": 1, "mutation_score": False})
    submitted = await service.submit(request, use_agents=True)
    state = await service.wait(submitted["task_id"], timeout_s=240)
    assert state["status"] == "completed", state["error"]
    result = state["result"]
    modules = MODULES
    assert [row["path"] for row in result["coverage_by_file"]] == modules
    assert all(row["line_rate"] == 1.0 for row in result["coverage_by_file"]), result["coverage_by_file"]
    assert result["coverage_estimate"] == 1.0 and result["outcome"] == "complete"
    assert sorted(m["target"] for m in result["modules"]) == modules
    assert len([f for f in result["files"] if f.startswith("tests/test_")]) == UNTESTED
    assert result["test_count"] == 2 * UNTESTED
    # Each module was an evolve task of its own: on the stream together, taken by whichever evolution worker was free.
    steps = await agent_services.pool.fetch(
        "SELECT task_id, payload FROM agent_tasks WHERE task_type = 'evolve' ORDER BY task_id")
    assert [row["task_id"].rsplit(".", 1)[-1] for row in steps] == [str(i) for i in range(UNTESTED)]
    assert sorted(p["target_files"][0] for p in (row["payload"] for row in steps)) == modules
