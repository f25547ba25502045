"""The key-metric alerts: evaluated from the tables, in the background, logged once per change."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from app.alerts import RULES, AlertMonitor, evaluate


async def _agent(pool, agent_id: str, status: str, age_s: float = 1) -> None:
    beat = (datetime.now(timezone.utc) - timedelta(seconds=age_s)).isoformat()
    await pool.execute(
        "INSERT INTO agent_registry (agent_id, agent_type, status, capabilities, priority, endpoints, health) "
        "VALUES ($1, 'evolution', $2, '[]', 1, '{}', $3)", agent_id, status, {"last_heartbeat": beat})


async def _request(pool, request_id: str, route: str, mode: str, pct: int, bucket: int) -> None:
    await pool.execute(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request) VALUES ($1, $2, $3, $4, $5, 'k', 'r', '{}')", request_id, route, mode, pct, bucket)


def states(alerts) -> dict[str, str]:
    return {a.name: a.state for a in alerts}


async def test_no_data_is_said_as_such(pool) -> None:
    assert set(states(await evaluate(pool)).values()) == {"no data"}


async def test_fallback_counts_only_requests_the_rollout_meant_for_agents(pool) -> None:
    # 50 %: bucket 80 goes to Phase 2 by design (not a fallback); bucket 10 meant for agents went there too.
    await _request(pool, "a", "agents", "percentage", 50, 10)
    await _request(pool, "b", "phase2", "percentage", 50, 80)
    await _request(pool, "c", "phase2", "percentage", 50, 20)
    fallback = next(a for a in await evaluate(pool) if a.name == "Phase 2 fallback rate")
    assert fallback.value == 0.5 and fallback.state == "firing" and fallback.panel == "Rollout"


async def test_long_dead_agents_do_not_count_against_availability(pool) -> None:
    await _agent(pool, "agent_evolution_1", "healthy")
    await _agent(pool, "agent_evolution_2", "unhealthy", age_s=7200)  # gone two hours ago
    availability = next(a for a in await evaluate(pool) if a.name == "Agent availability")
    assert availability.value == 1.0 and availability.state == "ok"
    await _agent(pool, "agent_evolution_3", "unhealthy", age_s=30)  # just died: counts
    availability = next(a for a in await evaluate(pool) if a.name == "Agent availability")
    assert availability.value == 0.5 and availability.state == "firing"


async def test_monitor_logs_and_tells_each_change_once(pool, caplog) -> None:
    await _agent(pool, "agent_evolution_1", "healthy")
    await _agent(pool, "agent_evolution_2", "unhealthy", age_s=30)
    monitor = AlertMonitor(pool, interval_s=3600)
    heard: list[list[str]] = []
    monitor.subscribe(lambda _all, started: heard.append([a.name for a in started]))
    with caplog.at_level(logging.INFO, logger="app.alerts"):
        await monitor.check()
        await monitor.check()
        await pool.execute("UPDATE agent_registry SET status = 'healthy'")
        await monitor.check()
    assert heard == [["Agent availability"], [], []]
    fired = [r.getMessage() for r in caplog.records if "alert firing" in r.getMessage()]
    assert fired == ["alert firing: Agent availability is 50.0% (alert below 95%; target >99%)"]
    assert any("alert resolved: Agent availability is 100.0%" in r.getMessage() for r in caplog.records)
    # A listener subscribing later hears the current state at once.
    late: list[list[str]] = []
    monitor.subscribe(lambda all_alerts, started: late.append([a.name for a in all_alerts]))
    assert late == [[r.name for r in RULES]]


async def test_monitor_runs_in_the_background_and_survives_a_failed_round(pool) -> None:
    import asyncio

    monitor = AlertMonitor(pool, interval_s=0.05)
    calls = 0
    original = monitor.check

    async def flaky() -> list:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("store restarting")
        return await original()

    monitor.check = flaky  # type: ignore[method-assign]
    monitor.start()
    for _ in range(100):
        if monitor.latest:
            break
        await asyncio.sleep(0.02)
    await monitor.stop()
    assert calls >= 2 and len(monitor.latest) == len(RULES)
