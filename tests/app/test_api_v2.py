"""The v2 API and the v1 migration helper, over real HTTP with all six agents."""

import asyncio

import pytest

from app import system_config


async def test_agents_listing_has_the_spec_shape(v2_client) -> None:
    body = (await v2_client.get("/api/v2/agents")).json()
    types = sorted(a["agent_type"] for a in body["agents"])
    assert types == sorted(["orchestration", "observation", "requirements", "analysis", "evolution", "reporting"])
    evolution = next(a for a in body["agents"] if a["agent_type"] == "evolution")
    assert evolution["agent_id"].startswith("agent_evolution_")
    assert evolution["status"] == "healthy"
    assert "test_generation" in evolution["capabilities"]
    assert evolution["active_tasks"] == 0 and evolution["tasks_completed_today"] == 0


async def test_dashboard_has_the_spec_fields(v2_client) -> None:
    body = (await v2_client.get("/api/v2/metrics/dashboard")).json()
    for key in ("system_health", "total_agents", "active_agents", "tasks_completed_24h", "avg_latency_seconds",
                "token_usage_24h", "cost_24h_usd"):
        assert key in body
    assert body["total_agents"] == 6 and body["active_agents"] == 6 and body["system_health"] == "healthy"


async def test_generate_input_errors_name_the_field(v2_client) -> None:
    bad = await v2_client.post("/api/v2/tests/generate", json={"repository_url": "x", "coverage_target": 2})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "coverage_target"
    missing = await v2_client.post("/api/v2/tests/generate", json={"target_files": ["a.py"]})
    assert missing.json()["errors"][0] == {"field": "repository_url", "reason": "is required"}
    option = await v2_client.post("/api/v2/tests/generate", json={"repository_url": "--upload-pack=id x.git"})
    assert option.status_code == 422 and option.json()["errors"][0]["field"] == "repository_url"
    assert "starts with '-'" in option.json()["errors"][0]["reason"]
    # The same words as the CLI and the window (engine/generate_request.py), with the range.
    short = await v2_client.post("/api/v2/tests/generate", json={"repository_url": "/r", "search_time_s": 2})
    assert short.status_code == 422
    assert short.json()["errors"] == [{"field": "search_time_s", "reason": "must be from 5 to 600 seconds, got 2"}]
    # "*" is the whole repository (every module without tests); beside named files it is a mistake, said so.
    mixed = await v2_client.post("/api/v2/tests/generate", json={"repository_url": "/r", "target_files": ["*", "a.py"]})
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "target_files"
    assert "give it alone" in mixed.json()["errors"][0]["reason"]
    unknown = await v2_client.get("/api/v2/tests/generate/task-nope")
    assert unknown.status_code == 404


async def test_v1_generate_with_use_agents_redirects_to_v2(v2_client, sample_repo) -> None:
    response = await v2_client.post("/api/v1/tests/generate", json={
        "use_agents": True, "repository_url": str(sample_repo), "target_files": ["calc.py"]},
        follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/api/v2/tests/generate"


@pytest.mark.slow
async def test_v1_generate_without_agents_runs_phase2_single_shot(v2_client, sample_repo, pool, generation) -> None:
    response = await v2_client.post("/api/v1/tests/generate", json={
        "use_agents": False, "repository_url": str(sample_repo), "target_files": ["calc.py"], "search_time_s": 10})
    assert response.status_code == 200
    task_id = response.json()["task_id"]
    assert task_id.startswith("p2-") and response.json()["route"] == "phase2"
    state = await _wait(v2_client, task_id)
    assert state["status"] == "completed" and state["result"]["rounds"] == 1
    assert state["result"]["test_count"] > 0, state["result"]["failures"]
    assert state["verdict"] in ("completed", "partial") and state["verdict_reason"]
    assert await pool.fetchval("SELECT count(*) FROM agent_tasks") == 0  # no agent touched it
    # Each step is a line in the run log (and an event for the window's log, bar and generators table).
    log = await generation.run_log(task_id)
    assert "calc.py: generating (search)" in log and "calc.py: distilling the tests" in log, log
    assert f"calc.py: {state['result']['test_count']} tests kept" in log, log
    # The file's own figure, not only the running total over the targets (which read as the file's).
    own = next(f for f in state["result"]["coverage_by_file"] if f["path"] == "calc.py")["line_rate"]
    assert f"{own:.0%} of its lines, {state['result']['coverage_estimate']:.0%} of all target lines so far" in log, log
    # The default route measures the kept tests' mutation score and holds distillation to it, as the agents do.
    mutation = state["result"]["mutation"]
    assert mutation["score"] is not None and mutation["total"] > 0, mutation
    assert "Measuring the mutation score" in log and mutation.get("compared", {}).get("kept") in (None, "distilled",
                                                                                               "as_generated")


@pytest.mark.slow
async def test_a_single_pass_that_keeps_nothing_is_a_failed_verdict_with_the_reason(
        v2_client, sample_repo) -> None:
    (sample_repo / "licensed.py").write_text("raise RuntimeError('no licence server at 10.0.0.7')\n")
    response = await v2_client.post("/api/v1/tests/generate", json={
        "use_agents": False, "repository_url": str(sample_repo), "target_files": ["licensed.py"], "search_time_s": 5})
    state = await _wait(v2_client, response.json()["task_id"])
    # The spec's clients read status: a pass that kept nothing is failed there too, with the cause.
    assert state["status"] == "failed" and state["result"]["test_count"] == 0
    assert state["verdict"] == "failed" and "no licence server" in state["error"]
    assert "no test was kept" in state["verdict_reason"] and "no licence server" in state["verdict_reason"]


async def test_a_single_pass_refuses_a_target_that_links_out_of_the_repository(v2_client, sample_repo, tmp_path) -> None:
    (tmp_path / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (sample_repo / "keys.py").symlink_to(tmp_path / "id_rsa")
    response = await v2_client.post("/api/v1/tests/generate", json={
        "use_agents": False, "repository_url": str(sample_repo), "target_files": ["keys.py"]})
    state = await _wait(v2_client, response.json()["task_id"])
    assert state["status"] == "failed" and state["verdict"] == "failed"
    assert "inside the repository" in state["error"] and "keys.py" in state["error"]
    assert "PRIVATE KEY" not in str(state)


@pytest.mark.slow
async def test_shadow_mode_records_both_results(v2_client, sample_repo, pool) -> None:
    await system_config.set_value(pool, "agents_enabled", "true")
    await system_config.set_value(pool, "rollout_mode", "shadow")
    response = await v2_client.post("/api/v1/tests/generate", json={
        "repository_url": str(sample_repo), "target_files": ["calc.py"], "search_time_s": 10, "mutation_score": False})
    assert response.json()["route"] == "shadow"
    state = await _wait(v2_client, response.json()["task_id"])
    assert state["status"] == "completed" and state["route"] == "shadow"
    for _ in range(120):
        state = (await v2_client.get(f"/api/v2/tests/generate/{response.json()['task_id']}")).json()
        if state["shadow"]["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.5)
    assert state["shadow"]["status"] == "completed"  # the agents' copy, for comparison
    row = await pool.fetchrow("SELECT * FROM generation_requests")
    assert row["phase2_result"] is not None and row["agent_task_id"] == state["shadow"]["task_id"]


@pytest.mark.slow
async def test_follow_up_in_the_same_conversation_sees_what_was_learned(v2_client, sample_repo, pool) -> None:
    body = {"repository_url": str(sample_repo), "target_files": ["text_utils.py"], "search_time_s": 10,
            "conversation_id": "conv-follow-up", "requirements": "initials of empty names", "mutation_score": False}
    first = await _wait(v2_client, (await v2_client.post("/api/v2/tests/generate", json=body)).json()["task_id"])
    assert first["status"] == "completed"
    second_id = (await v2_client.post("/api/v2/tests/generate", json={
        **body, "requirements": "what is still uncovered in text_utils"})).json()["task_id"]
    second = await _wait(v2_client, second_id)
    assert second["status"] == "completed"
    recalled = await _requirements_recall(pool, second_id)
    assert any("Generated" in note and "text_utils" in note for note in recalled)


async def _requirements_recall(pool, root_id: str) -> list[str]:
    from agents import tasks as task_rows

    children = await task_rows.children(pool, root_id)
    return next(c for c in children if c["task_type"] == "requirements")["result"]["recalled"]


async def _wait(client, task_id: str, timeout_s: float = 120) -> dict:
    for _ in range(int(timeout_s * 2)):
        state = (await client.get(f"/api/v2/tests/generate/{task_id}")).json()
        if state["status"] in ("completed", "failed"):
            return state
        await asyncio.sleep(0.5)
    raise AssertionError(f"{task_id} did not finish")


async def test_status_reports_the_place_in_line_of_a_waiting_request(generation, sample_repo, pool) -> None:
    """No agent runs here, so requests wait: each is told its place, and later the step it waits at."""
    from agents import tasks
    from engine.generate_request import GenerateRequest

    ids = [(await generation.submit(GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py"]), use_agents=True))["task_id"]
           for _ in range(3)]
    queues = [(await generation.status(task_id))["queue"] for task_id in ids]
    assert [(q["step"], q["position"]) for q in queues] == [("generate", 1), ("generate", 2), ("generate", 3)]
    assert all(q["waited_s"] >= 0 for q in queues)
    # The first is being orchestrated and its evolve step waits for a free evolution slot.
    await pool.execute("UPDATE agent_tasks SET status = 'in_progress' WHERE task_id = $1", ids[0])
    await tasks.create(pool, "evolve", {}, task_id=f"{ids[0]}.evolve")
    state = await generation.status(ids[0])
    assert (state["queue"]["step"], state["queue"]["position"]) == ("evolve", 1)
    assert (await generation.status(ids[1]))["queue"]["position"] == 1  # one ahead of it left the line
    await pool.execute("UPDATE agent_tasks SET status = 'completed' WHERE task_id = ANY($1)", [ids[0], f"{ids[0]}.evolve"])
    assert (await generation.status(ids[0]))["queue"] is None
