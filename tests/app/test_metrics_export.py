"""``GET /metrics`` over real HTTP: the token, the spec's names, figures from every process, once each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.metrics_export import METRIC_NAMES, REQUEST_BUCKETS_S


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def _register(pool, agent_id: str, agent_type: str, status: str, heartbeat_age_s: float) -> None:
    beat = (datetime.now(timezone.utc) - timedelta(seconds=heartbeat_age_s)).isoformat().replace("+00:00", "Z")
    await pool.execute(
        "INSERT INTO agent_registry (agent_id, agent_type, status, capabilities, priority, endpoints, health) "
        "VALUES ($1, $2, $3, '[]', 1, '{}', $4)", agent_id, agent_type, status,
        {"last_heartbeat": beat, "active_tasks": 0})


async def test_metrics_need_the_token(test_client: httpx.AsyncClient) -> None:
    anonymous = await test_client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert "Bearer" in anonymous.headers.get("www-authenticate", "") or "token" in anonymous.text


async def test_every_spec_and_key_metric_is_exposed(test_client: httpx.AsyncClient, pool) -> None:
    # One of each thing the families are made from, so histogram and counter families have samples.
    await _register(pool, "agent_evolution_a", "evolution", "healthy", 1)
    await pool.execute("INSERT INTO agent_metrics (agent_id, metric_type, metric_value, metadata) "
                       "VALUES ('agent_evolution_a', 'token_usage', 10, '{\"model\": \"m\", \"cost_usd\": 0.1}')")
    await pool.execute(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request, status, phase2_seconds) VALUES ('p2-1', 'phase2', 'off', 0, 1, 'k', 'r', '{}', "
        "'completed', 2.0)")
    await test_client.get("/api/v1/settings")
    text = await scrape(test_client)
    names = {f.name for f in text_string_to_metric_families(text)}
    # prometheus-client's parser drops a counter's _total from the family name.
    missing = {n for n in METRIC_NAMES if n not in names and n.removesuffix("_total") not in names}
    assert not missing, f"not exposed: {sorted(missing)}"
    assert "process_resident_memory_bytes" in text


async def test_http_latency_is_labelled_by_route_template(test_client: httpx.AsyncClient) -> None:
    for execution in (123456, 123457, 123458):
        assert (await test_client.get(f"/api/v1/execution/{execution}/status")).status_code == 404
    found = samples(await scrape(test_client))
    paths = {dict(labels).get("path") for (name, labels) in found if name == "http_request_duration_seconds_count"}
    template = "/api/v1/execution/{execution_id}/status"
    assert template in paths
    assert not any(p and "123456" in p for p in paths), "raw URLs would make one series per execution"
    assert value(found, "http_request_duration_seconds_count", path=template, method="GET") == 3
    assert value(found, "http_requests_total", path=template, method="GET", status="4xx") == 3


async def test_fleet_figures_come_from_the_database(test_client: httpx.AsyncClient, pool) -> None:
    """Rows written by other processes (workers elsewhere) are counted; each model call's tokens once."""
    await _register(pool, "agent_evolution_1", "evolution", "healthy", 2)
    await _register(pool, "agent_evolution_2", "evolution", "unhealthy", 60)  # died a minute ago: counts
    await _register(pool, "agent_evolution_3", "evolution", "unhealthy", 3600)  # gone an hour: left out
    await _register(pool, "agent_analysis_1", "analysis", "shutting_down", 1)
    # Two model calls by the gateway (in and out priced apart), as a worker in another process writes them.
    for prompt, completion in ((1000, 200), (3000, 800)):
        cost = (prompt * 0.15 + completion * 0.60) / 1e6
        await pool.execute(
            "INSERT INTO agent_metrics (agent_id, metric_type, metric_value, metadata) VALUES "
            "('agent_evolution_1', 'token_usage', $1, $2)", prompt + completion,
            {"model": "gpt-4o-mini", "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost})
    # A finished agents request of 90 s and 5,000 tokens, and a failed one, and a Phase 2 fallback.
    for task_id, status, secs, tokens in (("task-1", "completed", 90.0, 5000), ("task-2", "failed", 20.0, 0)):
        await pool.execute(
            "INSERT INTO agent_tasks (task_id, task_type, payload, assigned_agent_id, status, "
            "execution_time_seconds, token_usage, completed_at) VALUES ($1, 'generate', '{}', 'agent_evolution_1', "
            "$2, $3, $4, now() AT TIME ZONE 'utc')", task_id, status, secs, tokens)
        await pool.execute(
            "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, "
            "routing_key, reason, request, agent_task_id) VALUES ($1, 'agents', 'percentage', 50, 1, 'k', 'r', "
            "'{}', $1)", task_id)
    await pool.execute(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request, status, phase2_seconds) VALUES ('p2-x', 'phase2', 'percentage', 50, 80, 'k', 'r', '{}', "
        "'completed', 4.0)")

    found = samples(await scrape(test_client))
    assert value(found, "agent_registry_healthy", agent_type="evolution") == 1
    assert value(found, "agent_registry_total", agent_type="evolution") == 2
    assert ("agent_registry_total", (("agent_type", "analysis"),)) not in found
    assert value(found, "agent_token_usage_total", agent_type="evolution", model="gpt-4o-mini") == 5000
    assert abs(value(found, "aiwebtest_llm_cost_usd_total", agent_type="evolution", model="gpt-4o-mini")
               - (4000 * 0.15 + 1000 * 0.60) / 1e6) < 1e-12
    assert value(found, "aiwebtest_llm_tokens_today") == 5000
    assert value(found, "aiwebtest_token_budget_daily") > 0
    assert value(found, "aiwebtest_generation_requests_total", route="agents", rollout_mode="percentage") == 2
    assert value(found, "aiwebtest_generation_requests_total", route="phase2", rollout_mode="percentage") == 1
    assert value(found, "aiwebtest_generation_finished_total", route="agents", outcome="failed") == 1
    assert value(found, "aiwebtest_generation_tokens_total", route="agents") == 5000
    assert value(found, "aiwebtest_agent_tasks_total", agent_type="evolution", status="completed") == 1
    # The 90 s request is above the 60 s bucket, the 20 s one inside it.
    assert value(found, "aiwebtest_generation_duration_seconds_bucket", route="agents", le="60.0") == 1
    assert value(found, "aiwebtest_generation_duration_seconds_bucket", route="agents", le="+Inf") == 2
    assert value(found, "aiwebtest_generation_duration_seconds_sum", route="agents") == 110.0
    assert len([k for k in found if k[0] == "aiwebtest_generation_duration_seconds_bucket"
                and dict(k[1])["route"] == "agents"]) == len(REQUEST_BUCKETS_S) + 1
