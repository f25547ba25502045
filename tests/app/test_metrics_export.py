"""``GET /metrics`` over real HTTP: the token, the spec's names, figures from every process, once each."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.metrics_export import METRIC_NAMES, REQUEST_BUCKETS_S

MONITORING = Path(__file__).parents[2] / "monitoring"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset", "inf", "nan"}


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
    await _seed_one_of_everything(pool)  # so histogram and counter families have samples
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
            {"model": "gpt-4o-mini", "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost,
             "task_id": "task-1"})  # the request's own figure is these rows (5,000), not a column beside them
    # A finished agents request of 90 s and 5,000 tokens, and a failed one, and a Phase 2 fallback.
    for task_id, status, secs, tokens in (("task-1", "completed", 90.0, 5000), ("task-2", "failed", 20.0, 0)):
        await pool.execute(
            "INSERT INTO agent_tasks (task_id, task_type, payload, assigned_agent_id, status, "
            "execution_time_seconds, token_usage, completed_at, result) VALUES ($1, 'generate', '{}', "
            "'agent_evolution_1', $2, $3, $4, now() AT TIME ZONE 'utc', $5)", task_id, status, secs, tokens,
            {"test_count": 5, "outcome": "complete"} if status == "completed" else None)
        await pool.execute(
            "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, "
            "routing_key, reason, request, agent_task_id) VALUES ($1, 'agents', 'percentage', 50, 1, 'k', 'r', "
            "'{}', $1)", task_id)
    await pool.execute(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request, status, phase2_seconds, phase2_result) VALUES ('p2-x', 'phase2', 'percentage', 50, 80, "
        "'k', 'r', '{}', 'completed', 4.0, '{\"test_count\": 2}')")

    found = samples(await scrape(test_client))
    assert value(found, "agent_registry_healthy", agent_type="evolution") == 1
    assert value(found, "agent_registry_total", agent_type="evolution") == 2
    assert ("agent_registry_total", (("agent_type", "analysis"),)) not in found
    assert value(found, "agent_token_usage_total", agent_type="evolution", model="gpt-4o-mini") == 5000
    assert abs(value(found, "aiwebtest_llm_cost_usd_total", agent_type="evolution", model="gpt-4o-mini")
               - (4000 * 0.15 + 1000 * 0.60) / 1e6) < 1e-12
    assert value(found, "aiwebtest_llm_tokens_today") == 5000
    assert value(found, "aiwebtest_token_budget_daily") > 0
    assert value(found, "aiwebtest_generation_requests_total", route="agents", rollout_mode="percentage",
                 assigned="agents") == 2
    # Bucket 80 at 50 %: Phase 2 by design, not a fallback.
    assert value(found, "aiwebtest_generation_requests_total", route="phase2", rollout_mode="percentage",
                 assigned="phase2") == 1
    assert value(found, "aiwebtest_generation_finished_total", route="agents", outcome="failed") == 1
    assert value(found, "aiwebtest_generation_tokens_total", route="agents") == 5000
    assert value(found, "aiwebtest_agent_tasks_total", agent_type="evolution", status="completed") == 1
    # The 90 s request is above the 60 s bucket, the 20 s one inside it.
    assert value(found, "aiwebtest_generation_duration_seconds_bucket", route="agents", le="60.0") == 1
    assert value(found, "aiwebtest_generation_duration_seconds_bucket", route="agents", le="+Inf") == 2
    assert value(found, "aiwebtest_generation_duration_seconds_sum", route="agents") == 110.0
    # The key metrics as the app evaluates them: 1 of 2 counted agents healthy, 1 of 3 requests failed.
    assert value(found, "aiwebtest_agent_availability_ratio") == 0.5
    assert value(found, "aiwebtest_error_rate_ratio") == pytest.approx(1 / 3)
    assert value(found, "aiwebtest_phase2_fallback_rate_ratio") == 0.0
    assert value(found, "aiwebtest_tokens_per_request") == 2500
    assert value(found, "aiwebtest_alert_firing", alert="Agent availability") == 1
    assert value(found, "aiwebtest_alert_firing", alert="Daily cost") == 0
    assert len([k for k in found if k[0] == "aiwebtest_generation_duration_seconds_bucket"
                and dict(k[1])["route"] == "agents"]) == len(REQUEST_BUCKETS_S) + 1


def promql_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions, keywords,
    label names (inside {} or by (...)) or durations."""
    expr = re.sub(r'\{[^}]*\}', "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or match.group().lower() in PROMQL_WORDS:
            continue
        if match.start() and (expr[match.start() - 1].isdigit() or expr[match.start() - 1] == "."):
            continue  # the e of 1e6
        names.add(match.group())
    return names


def dashboard_and_rule_exprs() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana" / "phase3_integration.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    rules = (MONITORING / "alerts" / "phase3_integration.yaml").read_text()
    import yaml

    exprs += [r["expr"] for g in yaml.safe_load(rules)["groups"] for r in g["rules"]]
    return exprs


def test_promql_name_extraction_finds_names_and_skips_the_rest() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{path=~"/api/v2/.*"}[5m]))) '
            '/ on() max(y_total) > 1e6')
    assert promql_metric_names(expr) == {"x_bucket", "y_total"}


async def test_dashboard_and_alerts_use_only_exposed_metrics(test_client: httpx.AsyncClient, pool) -> None:
    await _seed_one_of_everything(pool)
    await test_client.get("/api/v2/agents")
    await test_client.get("/api/v1/settings")
    exposed = {line.split("{")[0].split(" ")[0] for line in (await scrape(test_client)).splitlines()
               if line and not line.startswith("#")}
    dashboard = json.loads((MONITORING / "grafana" / "phase3_integration.json").read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    assert titles == ["Traffic split", "Agent health", "Latency: Phase 2 vs Phase 3", "Cost tracking", "Error rates"]
    used = set().union(*(promql_metric_names(e) for e in dashboard_and_rule_exprs()))
    assert used, "no metric found in the dashboard or rules"
    assert not used - exposed, f"queried but never exposed: {sorted(used - exposed)}"


async def _seed_one_of_everything(pool) -> None:
    await _register(pool, "agent_evolution_a", "evolution", "healthy", 1)
    await pool.execute("INSERT INTO agent_metrics (agent_id, metric_type, metric_value, metadata) VALUES "
                       "('agent_evolution_a', 'token_usage', 10, '{\"model\": \"m\", \"cost_usd\": 0.1}')")
    await pool.execute(
        "INSERT INTO agent_tasks (task_id, task_type, payload, assigned_agent_id, status, execution_time_seconds, "
        "token_usage, completed_at, result) VALUES ('task-s', 'generate', '{}', 'agent_evolution_a', 'completed', 3, 10, "
        "now() AT TIME ZONE 'utc', '{\"test_count\": 2}')")
    await pool.execute(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request, agent_task_id) VALUES ('task-s', 'agents', 'full', 100, 1, 'k', 'r', '{}', 'task-s')")
