"""Faults survived: a worker killed mid-task, Redis restarted mid-request."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agents import tasks
from agents.base import Services, dispatch, wait_for_task
from agents.constants import AGENT_TYPES
from agents.evolution import EvolutionAgent
from agents.memory import WorkingMemory
from agents.worker import AgentWorker, WorkerSettings
from app.agents_host import AgentHost
from app.embedded_redis import EmbeddedRedis
from app.generation import GenerationService
from engine.generate_request import GenerateRequest
from tests.conftest import make_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


async def test_worker_killed_while_holding_a_task_is_finished_once_by_another(
    agent_services: Services, servers, migrated_db: str, data_dir: Path, sample_repo: Path, pynguin_runner
) -> None:
    (data_dir / "tools").symlink_to(pynguin_runner.venv.parent)
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir), "POSTGRES_URL": migrated_db,
           "REDIS_STREAMS_URL": servers.redis_url, "AGENT_LEASE_S": "3"}
    victim = subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--agents", "evolution"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert victim.stdout is not None
        assert "agents evolution" in await asyncio.to_thread(victim.stdout.readline)
        task_id = await dispatch(agent_services.pool, agent_services.bus, "evolve", {
            "repository": str(sample_repo), "target_files": ["calc.py"],
            "request": {"repository_url": str(sample_repo), "coverage_target": 0.9, "search_time_s": 10,
                        "mutation_score": False}})  # the kill is the subject, not the score's time box
        for _ in range(200):
            task = await tasks.get(agent_services.pool, task_id)
            if task["status"] == "in_progress":
                break
            await asyncio.sleep(0.05)
        victim_agent, victim_token = task["assigned_agent_id"], task["lease_token"]
        assert task["status"] == "in_progress" and victim_agent.startswith("agent_evolution_")
        victim.send_signal(signal.SIGKILL)  # mid-task
        victim.wait()
    finally:
        if victim.poll() is None:
            victim.kill()

    rescuer = AgentWorker(EvolutionAgent(), agent_services,
                          WorkerSettings(heartbeat_interval_s=0.5, reclaim_idle_ms=2000, lease_s=3, renew_every_s=0.5))
    await rescuer.start()
    try:
        done = await wait_for_task(agent_services.pool, task_id, timeout_s=120)
    finally:
        await rescuer.stop()
    assert done["status"] == "completed", done["error"]
    assert done["assigned_agent_id"] == rescuer.agent_id
    assert done["result"]["coverage"]["line_rate"] >= 0.9
    counts = dict(await agent_services.pool.fetch(
        "SELECT metric_type, count(*) FROM agent_metrics WHERE metadata->>'task_id' = $1 "
        "AND metric_type IN ('tasks_completed', 'tasks_failed') GROUP BY metric_type", task_id))
    assert counts == {"tasks_completed": 1}  # ended exactly once
    assert done["attempts"] == 2
    assert not await tasks.complete(agent_services.pool, task_id, victim_token, {"late": True})  # fenced


async def test_redis_restart_mid_request_loses_nothing(
    pool, engine, tmp_path: Path, sample_repo: Path, pynguin_runner
) -> None:
    from agents.phase2_client import InProcessPhase2
    import redis.asyncio as aioredis

    own = EmbeddedRedis(tmp_path)  # a Redis of this test's own, to restart
    info = await own.start()
    client = aioredis.from_url(info.url)
    services = Services(pool=pool, redis=client, workspace=tmp_path / "ws", phase2=InProcessPhase2(engine),
                        memory=WorkingMemory(pool), pynguin=pynguin_runner)
    host = AgentHost(services, list(AGENT_TYPES))
    await host.start()
    service = GenerationService(pool, make_config(tmp_path / "cfg"), services)
    try:
        submitted = await service.submit(
            GenerateRequest(repository_url=str(sample_repo), target_files=["calc.py", "text_utils.py"], coverage_target=0.9, search_time_s=10,
                            mutation_score=False),
            use_agents=True)
        for _ in range(400):  # wait until the request is mid-flight
            if await pool.fetchval("SELECT count(*) FROM agent_tasks WHERE task_type = 'evolve'"):
                break
            await asyncio.sleep(0.05)
        await own.stop()
        await asyncio.sleep(2.0)  # workers keep retrying meanwhile
        await own.start()
        state = await service.wait(submitted["task_id"], timeout_s=180)
    finally:
        await service.close()
        await host.stop(drain_timeout_s=5)
        await client.aclose()
        await own.stop()
    assert state["status"] == "completed", state["error"]
    assert state["result"]["coverage_estimate"] >= 0.9
    rows = await pool.fetch("SELECT task_type, status FROM agent_tasks ORDER BY created_at")
    assert sorted(r["task_type"] for r in rows) == sorted(
        ["generate", "observe", "requirements", "analyze", "evolve", "report"])  # none lost, none doubled
    assert {r["status"] for r in rows} == {"completed"}
