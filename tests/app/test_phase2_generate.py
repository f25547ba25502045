"""The Phase 2 single pass (the default route) holds its distilled tests to the mutation gate, as the agents do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.phase2_generate import _mutation, single_shot
from engine.generate_request import GenerateRequest
from tests.conftest import SAMPLE_REPO
from tests.helpers.calc_suites import ORDER_DEPENDENT, STRONG_CALC_TESTS, WEAK_CALC_TESTS
from tests.helpers.shop_repo import MODULES, UNTESTED, make_shop, answer_for_module

NAME = "tests/test_generated_calc.py"


async def _say(_message: str, **_data: object) -> None:
    return None


@pytest.fixture
def with_model(agent_services, scripted_llm) -> None:
    """The single pass with a model: the real gateway on the scripted server."""
    from agents.llm_gateway import GatewaySettings, LLMGateway

    agent_services.gateway = LLMGateway(agent_services.pool, agent_services.redis,
                                        GatewaySettings(scripted_llm.base_url, "gpt-4o-mini", "sk-test"))


@pytest.mark.slow
async def test_distilled_tests_that_notice_fewer_wrong_lines_are_distilled_again_without_the_slice(
        agent_services, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, repo)
    request = GenerateRequest(repository_url=str(repo), target_files=["calc.py"], search_time_s=5)
    files, notes = {NAME: WEAK_CALC_TESTS}, {NAME: "distilled: 2 tests from 6"}
    mutation = await _mutation(agent_services, request, repo, ["calc.py"], files, {NAME: STRONG_CALC_TESTS}, notes,
                               _say)
    # What goes out kills as many mutants as the strong suite: the strong suite distilled with every test kept.
    assert mutation["compared"]["kept"] == "distilled_unsliced", mutation
    assert mutation["compared"]["unsliced"] >= mutation["compared"]["as_generated"] > mutation["compared"]["distilled"]
    assert notes[NAME].startswith("distilled without the slice"), notes[NAME]
    assert files[NAME] not in (WEAK_CALC_TESTS, STRONG_CALC_TESTS) and "clamp(" in files[NAME], files[NAME]
    assert mutation["score"] > 0.5 and mutation["distillation"].endswith("go out without the slice")


async def test_a_request_that_asks_for_no_score_gets_none_and_keeps_its_files(agent_services, tmp_path: Path) -> None:
    request = GenerateRequest(repository_url=str(tmp_path), target_files=["calc.py"], mutation_score=False)
    files = {NAME: WEAK_CALC_TESTS}
    mutation = await _mutation(agent_services, request, tmp_path, ["calc.py"], files, {NAME: STRONG_CALC_TESTS}, {},
                               _say)
    assert mutation == {"score": None, "error": "not measured: the request asked not to (mutation_score false)"}
    assert files[NAME] == WEAK_CALC_TESTS


@pytest.mark.slow
async def test_the_default_route_covers_a_whole_repository_module_by_module(agent_services, with_model, scripted_llm,
                                                                          tmp_path: Path) -> None:
    """``target_files: ["*"]`` on the single pass: every module without tests, each with its row, and the total."""
    scripted_llm.default = {"reply": answer_for_module}
    repo = make_shop(tmp_path)
    lines: list[str] = []

    async def say(message: str, **_data: object) -> None:
        lines.append(message)

    request = GenerateRequest.parse({"repository_url": str(repo), "target_files": "*", "mutation_score": False})
    result = await single_shot(agent_services, request, say=say)
    assert [row["path"] for row in result["coverage_by_file"]] == MODULES
    assert result["coverage_estimate"] == 1.0 and result["outcome"] == "complete"
    assert sorted(name for name in result["files"] if name != "tests/conftest.py") == [
        f"tests/test_generated_shop_m{i}.py" for i in range(UNTESTED)]
    assert any(line.startswith(f"Whole repository: {UNTESTED} module(s) without tests") for line in lines), lines


@pytest.mark.slow
async def test_a_dependency_declared_nowhere_is_installed_and_named_in_the_result(agent_services, with_model, engine,
                                                                               scripted_llm, tmp_path: Path) -> None:
    from engine.repo_env import RepoEnvironments

    agent_services.envs = engine.envs = RepoEnvironments(tmp_path / "envs")  # as the app has them

    scripted_llm.default = {"content": "```python\nfrom easter_day import day\n\n\ndef test_easter_2024():\n"
                                       "    assert day(2024) == '2024-03-31'\n```"}
    repo = tmp_path / "undeclared"
    repo.mkdir()
    (repo / "easter_day.py").write_text("from dateutil.easter import easter\n\n\ndef day(year):\n"
                                        "    return easter(year).isoformat()\n")
    request = GenerateRequest.parse({"repository_url": str(repo), "target_files": ["easter_day.py"],
                                     "mutation_score": False})
    result = await single_shot(agent_services, request)
    assert result["coverage_estimate"] == 1.0, result["failures"]
    assert result["added_dependencies"] == ["python-dateutil for 'import dateutil' (easter_day.py), declared nowhere"]


@pytest.mark.slow
async def test_the_single_pass_hands_out_no_test_that_passes_only_after_another(agent_services, with_model, scripted_llm,
                                                                             sample_repo: Path) -> None:
    """Issue 27: reversed, shuffled and alone on the default route too; the test that needs another goes, named."""
    scripted_llm.default = {"content": ORDER_DEPENDENT}
    request = GenerateRequest.parse({"repository_url": str(sample_repo), "target_files": ["calc.py"],
                                     "mutation_score": False})
    result = await single_shot(agent_services, request)
    code = "\n".join(result["files"].values())
    assert "def test_classify_negative" in code and "test_safe_div_after_classify" not in code
    assert any("test_safe_div_after_classify dropped as flaky" in f for f in result["failures"]), result["failures"]
    assert result["test_count"] == 1
