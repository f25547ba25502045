"""The ``llm`` strategy and the gateway against our scripted OpenAI-compatible server."""

import asyncio

import keyring
import pytest
from keyring.backends import fail

from agents.constants import budget_key
from agents.llm_budget import BudgetExceeded, today
from agents.llm_gateway import GatewaySettings, LLMGateway, api_key_from_keyring
from app import system_config
from app.generation import GenerationService
from engine.generate_request import GenerateRequest
from tests.conftest import make_config
from tests.helpers.calc_suites import ORDER_DEPENDENT, STRONG_CALC_TESTS
from tests.helpers.llm_server import ScriptedLLM
from tests.helpers.memory_keyring import MemoryKeyring

GOOD_TESTS = f"```python\n{STRONG_CALC_TESTS}```"  # as a model would answer

PARTIAL_TESTS = """```python
from calc import classify

def test_negative():
    assert classify(-1) == "negative"
```"""


@pytest.fixture
def gateway_for(agent_services, scripted_llm: ScriptedLLM):
    def make(model: str = "gpt-4o-mini") -> LLMGateway:
        gateway = LLMGateway(agent_services.pool, agent_services.redis,
                             GatewaySettings(scripted_llm.base_url, model, "sk-test"))
        agent_services.gateway = gateway
        return gateway
    return make


@pytest.mark.slow
async def test_llm_strategy_end_to_end_with_usage_cost_and_a_429(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir
) -> None:
    gateway_for()
    scripted_llm.script = [{"status": 429}, {"content": GOOD_TESTS, "usage": (1200, 300)}]
    service = GenerationService(agent_services.pool, make_config(data_dir), agent_services)
    submitted = await service.submit(
        GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py"], coverage_target=0.9, requirements="Edge cases matter",
                        mutation_score=False),
        use_agents=True)
    state = await service.wait(submitted["task_id"], timeout_s=120)
    assert state["status"] == "completed", state["error"]
    result = state["result"]
    assert result["strategy"] == "llm" and result["coverage_estimate"] >= 0.9
    assert result["token_usage"] == 1500 and state["token_usage"] == 1500
    assert result["cost_usd"] == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1_000_000)  # output priced apart
    assert len(scripted_llm.requests) == 2  # the 429 was retried by the client
    prompt = scripted_llm.requests[1]["body"]["messages"][0]["content"]
    assert "def classify" in prompt and "Edge cases matter" in prompt
    metric = await agent_services.pool.fetchrow(
        "SELECT * FROM agent_metrics WHERE metric_type = 'token_usage' AND metadata ? 'model'")
    assert metric["metric_value"] == 1500 and metric["metadata"]["prompt_tokens"] == 1200
    # Each call's tokens are one row: the task's outcome adds none (the dashboard counted them twice).
    assert await agent_services.pool.fetchval(
        "SELECT sum(metric_value) FROM agent_metrics WHERE metric_type = 'token_usage'") == 1500
    evolve = await agent_services.pool.fetchrow("SELECT * FROM agent_tasks WHERE task_type = 'evolve'")
    assert evolve["token_usage"] == 1500
    assert await gateway_for().used_today() == 1500  # settled to the real usage


@pytest.mark.slow
async def test_a_budget_refusal_mid_request_keeps_the_tests_already_kept_as_partial(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir
) -> None:
    """A refusal used to fail the whole request and throw away what earlier prompts had kept (issue 16)."""
    gateway_for()
    await system_config.set_value(agent_services.pool, "daily_token_budget", "10000")
    # The first call is within budget but uses most of it; the next prompt's call is refused.
    scripted_llm.script = [{"content": PARTIAL_TESTS, "usage": (7000, 1500)}, {"content": GOOD_TESTS}]
    service = GenerationService(agent_services.pool, make_config(data_dir), agent_services)
    submitted = await service.submit(GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py"], coverage_target=0.95, mutation_score=False),
                                     use_agents=True)
    state = await service.wait(submitted["task_id"], timeout_s=120)
    assert state["status"] == "completed", state["error"]
    result = state["result"]
    assert result["outcome"] == "partial" and result["test_count"] == 1
    assert "def test_negative" in result["tests"]  # the first answer's test stands
    assert "This model call needs about" in result["reason"]
    assert "but only 1,500 of the daily budget of 10,000 are left (8,500 used today)" in result["reason"]
    assert "The 1 tests kept before that stand" in result["reason"]
    assert len(scripted_llm.requests) == 1  # the refused call never reached the model
    assert state["token_usage"] == 8500 and result["cost_usd"] > 0
    statuses = dict(await agent_services.pool.fetch("SELECT task_type, status FROM agent_tasks"))
    assert statuses["evolve"] == "completed" and statuses["generate"] == "completed"


async def test_reservations_are_atomic_across_concurrent_calls(agent_services, scripted_llm, gateway_for) -> None:
    gateway = gateway_for()
    await system_config.set_value(agent_services.pool, "daily_token_budget", "10000")
    await system_config.set_value(agent_services.pool, "llm_max_tokens", "4000")
    scripted_llm.script = [{"content": "ok", "usage": (10, 10), "delay_s": 0.3} for _ in range(5)]
    # Each call reserves ~4,000 tokens; only two fit in 10,000 while all are in flight.
    calls = [gateway.chat([{"role": "user", "content": "x"}], agent_id="a", max_tokens=4000) for _ in range(5)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, BudgetExceeded)]
    assert len(refused) == 3 and len(outcomes) - len(refused) == 2
    assert int(await agent_services.redis.get(budget_key(today()))) == 40  # settled: 2 x 20 real tokens


def test_api_key_comes_from_the_keyring_else_none() -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(fail.Keyring())
        assert api_key_from_keyring() is None  # headless Linux: no backend, no crash
        backend = MemoryKeyring()
        keyring.set_keyring(backend)
        keyring.set_password("aiwebtest", "llm_api_key", "sk-from-keyring")
        assert api_key_from_keyring() == "sk-from-keyring"
    finally:
        keyring.set_keyring(previous)


MIXED_TESTS = """```python
import pytest
from calc import clamp, classify, safe_div

def test_classify_negative():
    assert classify(-2) == "negative"

def test_classify_wrong():
    assert classify(0) == "positive"

def test_safe_div_by_zero():
    assert safe_div(1, 0) is None

def test_classify_negative_again():
    assert classify(-5) == "negative"

@pytest.mark.xfail(strict=True)
def test_clamp_inverted_bounds():
    clamp(1, 5, 0)
```"""

ALL_FAILING = """```python
from calc import classify

def test_wrong():
    assert classify(0) == "positive"
```"""


async def _generate(agent_services, data_dir, sample_repo, **request) -> dict:
    """One request through the agents; the mutation score is left out (tests/engine/test_mutation.py
    covers it, and its time box is at least 15 s a request)."""
    service = GenerationService(agent_services.pool, make_config(data_dir), agent_services)
    request = {"mutation_score": False, **request}
    submitted = await service.submit(GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py"], **request), use_agents=True)
    return await service.wait(submitted["task_id"], timeout_s=180)


@pytest.mark.slow
async def test_a_candidate_with_a_failing_test_keeps_its_passing_ones_and_only_those_that_add(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    gateway_for()
    scripted_llm.script = [{"content": MIXED_TESTS, "usage": (100, 50)}]
    # The per-function prompts that follow get no code: each ends at once (keeping is what is tested here).
    scripted_llm.default = {"content": "No more tests.", "usage": (10, 5)}
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.99, max_rounds=1)
    assert state["status"] == "completed", state["error"]
    code = "\n".join(state["result"]["files"].values())
    assert "test_classify_negative" in code and "test_safe_div_by_zero" in code
    assert "test_classify_wrong" not in code  # the failing one, cut out alone
    assert "test_classify_negative_again" not in code  # passes, but adds no coverage
    # The bare strict xfail names what it raises now, from the candidate's own run.
    assert "with pytest.raises(ValueError):\n        clamp(1, 5, 0)" in code and "xfail" not in code
    assert state["result"]["outcome"] == "partial"  # 99 % was not reached, and it says so
    assert "below the target 99%" in state["result"]["reason"]


@pytest.mark.slow
async def test_a_test_that_passes_only_after_another_is_not_kept(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    """Green in file order, red reversed or alone (agents/test_order.py): kept, it would fail the user's run."""
    gateway_for()
    scripted_llm.script = [{"content": ORDER_DEPENDENT, "usage": (100, 50)}]
    scripted_llm.default = {"content": "No more tests.", "usage": (10, 5)}
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.99, max_rounds=1)
    code = "\n".join((state.get("result") or {}).get("files", {}).values())
    assert "def test_classify_negative" in code, state
    assert "test_safe_div_after_classify" not in code
    # and the result names it, with why
    assert any("test_safe_div_after_classify dropped as flaky" in f for f in state["result"]["failures"]), state


@pytest.mark.slow
async def test_a_run_that_keeps_nothing_fails_with_its_reason(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    gateway_for()
    scripted_llm.default = {"content": ALL_FAILING, "usage": (10, 5)}
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.9, max_rounds=2)
    assert state["status"] == "failed"
    assert "No test kept" in state["error"] and "no test of the candidate passed" in state["error"]


@pytest.mark.slow
async def test_the_target_already_met_by_existing_tests_generates_nothing(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    gateway_for()
    (sample_repo / "tests").mkdir()
    (sample_repo / "tests" / "test_calc.py").write_text(STRONG_CALC_TESTS)
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.8)
    assert state["status"] == "completed", state["error"]
    assert state["result"]["outcome"] == "met" and state["result"]["files"] == {}
    assert "already cover" in state["result"]["reason"]
    assert not [r for r in scripted_llm.requests if "Write pytest tests" in str(r["body"])]  # none generated
    # Asked to generate anyway (the CLI's --even-if-met) with every line covered: nothing can be added, and
    # that is the answer, not "No test kept: the generators produced nothing" (the bench met it on semver).
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=1.0, generate_anyway=True)
    assert state["status"] == "completed", state["error"]
    assert state["result"]["outcome"] == "met" and "already cover 100%" in state["result"]["reason"]


CLASSIFY_WRONG = """```python
from calc import classify

def test_classify_zero():
    assert classify(0) == "nothing"
```"""

CLASSIFY_FIXED = """```python
from calc import classify

def test_classify_zero():
    assert classify(0) == "zero"

def test_classify_positive():
    assert classify(3) == "positive"
```"""


@pytest.mark.slow
async def test_uncovered_functions_get_their_own_prompt_and_a_failure_is_fed_back_for_repair(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    gateway_for()
    scripted_llm.script = [{"content": PARTIAL_TESTS, "usage": (100, 50)},  # the whole module: classify(-1) only
                           {"content": CLASSIFY_WRONG, "usage": (100, 50)},  # classify's gap: a wrong expectation
                           {"content": CLASSIFY_FIXED, "usage": (100, 50)}]  # the repair, told what failed
    scripted_llm.default = {"content": "```python\n```", "usage": (10, 5)}  # other gaps: nothing usable
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.99, max_rounds=1)
    assert state["status"] == "completed", state["error"]
    segment_prompt = scripted_llm.requests[1]["body"]["messages"][0]["content"]
    assert "Function `classify`" in segment_prompt
    assert '>>    9:         return "zero"' in segment_prompt  # the gap, marked, with its line number
    assert "def safe_div" not in segment_prompt  # the code around the gap, not the whole module
    repair = scripted_llm.requests[2]["body"]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "classify(0) == \"nothing\"" in repair[1]["content"]
    assert "AssertionError" in repair[2]["content"] or "nothing" in repair[2]["content"]
    code = "\n".join(state["result"]["files"].values())
    assert 'classify(0) == "zero"' in code and 'classify(3) == "positive"' in code
    generators = {g["generator"]: g for g in state["result"]["generators"]}
    assert generators["llm classify"]["kept_tests"] == 0 and generators["llm classify (repair 1)"]["kept_tests"] == 2


def _documented(request: dict) -> str:
    """A model's polish: every test gets a docstring and Pynguin's var_N become value_N; nothing else changes."""
    import ast
    import re

    prompt = request["messages"][-1]["content"]
    code = re.search(r"```python\n(.*?)```", prompt, re.DOTALL).group(1)
    tree = ast.parse(code.replace("var_", "value_"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            node.body.insert(0, ast.Expr(ast.Constant(f"Checks {node.name[5:].replace('_', ' ')}.")))
    return f"```python\n{ast.unparse(tree)}\n```"


@pytest.mark.slow
async def test_with_a_model_search_output_gets_names_and_docstrings_kept_only_as_it_passes(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    gateway_for()
    scripted_llm.default = {"reply": _documented, "usage": (300, 200)}
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.99, max_rounds=1,
                            strategy="search", search_time_s=8)
    assert state["status"] == "completed", state["error"]
    result = state["result"]
    pynguin_files = [g for g in result["generators"] if g["generator"].startswith("pynguin") and g["kept_tests"]]
    assert pynguin_files, result["generators"]
    assert result["polish"] and set(result["polish"].values()) == {"names and docstrings by the model"}
    code = "\n".join(result["files"][path] for path in result["polish"])
    assert '"""Checks ' in code and "var_0" not in code
    assert result["token_usage"] == 500 * len(result["polish"])


@pytest.mark.slow
async def test_a_crashing_generator_does_not_end_the_request(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir, tmp_path,
) -> None:
    from agents.generation.symbolic import CrossHairRunner

    broken = CrossHairRunner(tmp_path / "tools")
    broken.tool.venv.mkdir(parents=True)
    (broken.tool.venv / ".installed").touch()  # "installed", but there is no interpreter: every run crashes
    agent_services.crosshair = broken
    gateway_for()
    scripted_llm.default = {"content": GOOD_TESTS, "usage": (100, 50)}
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.9, max_rounds=1)
    assert state["status"] == "completed", state["error"]
    generators = {g["generator"]: g for g in state["result"]["generators"]}
    assert generators["crosshair cover"]["kept_tests"] == 0 and generators["crosshair cover"]["error"]
    assert generators["llm module"]["kept_tests"] > 0
    assert state["result"]["coverage_estimate"] >= 0.9


async def test_the_phase2_path_streams_counts_and_prices_its_model_calls(
    agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir
) -> None:
    """Phase 2's single pass called the model with no request id: its tokens never reached its result,
    and nothing showed the model working (issue 16)."""
    import json

    from agents.constants import PROGRESS_CHANNEL_PREFIX

    gateway_for()
    await system_config.set_value(agent_services.pool, "llm_model", "local-1.5b")  # no price
    scripted_llm.script = [{"content": GOOD_TESTS, "usage": (900, 300), "chunk_delay_s": 0.02}]
    service = GenerationService(agent_services.pool, make_config(data_dir), agent_services)
    pubsub = agent_services.redis.pubsub()
    submitted = await service.submit(GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py"]), use_agents=False)
    await pubsub.subscribe(PROGRESS_CHANNEL_PREFIX + submitted["task_id"])
    state = await service.wait(submitted["task_id"], timeout_s=120)
    events = []  # what the subscription buffered while the request ran
    while (message := await pubsub.get_message(timeout=0.2)) is not None:
        if message["type"] == "message":
            events.append(json.loads(message["data"]))
    await pubsub.aclose()
    assert state["status"] == "completed" and state["result"]["test_count"] > 0
    assert state["token_usage"] == 1200 and state["result"]["token_usage"] == 1200
    assert state["result"]["cost_note"] == "cost unknown for local-1.5b: add a price (Settings panel, llm_prices)"
    assert any(e.get("model_stream") and e["agent_id"] == "phase2" for e in events), events


@pytest.mark.slow
async def test_every_token_the_model_served_is_counted_once_in_every_figure(
    agent_host, agent_services, scripted_llm: ScriptedLLM, gateway_for, sample_repo, data_dir,
) -> None:
    """Issue 26: two chat calls of 150 tokens each were 150 on the dashboard once the request completed."""
    from app.api import dashboard_metrics
    from app.metrics_export import fleet_snapshot
    from app.db import ResilientPool

    gateway_for()
    scripted_llm.script = [{"content": PARTIAL_TESTS, "usage": (100, 50)}, {"content": GOOD_TESTS, "usage": (100, 50)}]
    state = await _generate(agent_services, data_dir, sample_repo, coverage_target=0.9)
    assert state["status"] == "completed", state["error"]
    assert len(scripted_llm.requests) == 2
    assert state["token_usage"] == state["result"]["token_usage"] == 300
    assert (await dashboard_metrics(agent_services.pool))["token_usage_24h"] == 300
    snapshot = await fleet_snapshot(ResilientPool(agent_services.pool, ""))
    assert sum(used for _route, _verdict, _n, used in snapshot.finished) == 300
    # A call recorded after the request's status changed (an answer still streaming when it finished) counts
    # in that request's own figure too, once: the status route, History and /metrics read the gateway's rows.
    service = GenerationService(agent_services.pool, make_config(data_dir), agent_services)
    root = await agent_services.pool.fetchval(
        "SELECT agent_task_id FROM generation_requests WHERE request_id = $1", state["task_id"])
    scripted_llm.script = [{"content": "late", "usage": (100, 50)}]
    evolution = await agent_services.pool.fetchval(
        "SELECT agent_id FROM agent_registry WHERE agent_type = 'evolution' LIMIT 1")
    await agent_services.gateway.chat([{"role": "user", "content": "late"}], agent_id=evolution, task_id=root)
    assert (await service.status(state["task_id"]))["token_usage"] == 450
    assert (await dashboard_metrics(agent_services.pool))["token_usage_24h"] == 450
    snapshot = await fleet_snapshot(ResilientPool(agent_services.pool, ""))
    assert sum(used for _route, _verdict, _n, used in snapshot.finished) == 450
