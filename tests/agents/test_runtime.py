"""The runtime with a trivial agent: bus, claims, heartbeats, reclaim, dead letters."""

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from agents import registry, tasks
from agents.base import Services, TaskContext, TaskFailed, dispatch, wait_for_task
from agents.bus import Bus
from agents.constants import DEAD_LETTER_STREAM, group_name, heartbeat_key, work_stream
from agents.reconciler import Reconciler
from agents.worker import AgentWorker, WorkerSettings

FAST = WorkerSettings(heartbeat_interval_s=0.2, alive_ttl_s=1.0, reclaim_idle_ms=600, block_ms=50,
                      lease_s=1.0, renew_every_s=0.2, max_attempts=3)


class EchoAgent:
    agent_type = "reporting"
    capabilities = [{"name": "echo", "version": "1.0.0"}]
    priority = 5

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.handled: list[str] = []

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        self.handled.append(ctx.task_id)
        await asyncio.sleep(self.delay_s)
        if ctx.task["payload"].get("fail"):
            raise TaskFailed("asked to fail")
        return {"echo": ctx.task["payload"]["n"]}


@pytest.fixture
async def services(pool: asyncpg.Pool, redis_client: aioredis.Redis, tmp_path: Path) -> Services:
    await redis_client.flushdb()
    return Services(pool=pool, redis=redis_client, workspace=tmp_path)


async def test_tasks_spread_over_instances_and_finish_once(services: Services) -> None:
    a, b = EchoAgent(0.05), EchoAgent(0.05)
    workers = [AgentWorker(a, services, FAST), AgentWorker(b, services, FAST)]
    for w in workers:
        await w.start()
    try:
        ids = [await dispatch(services.pool, services.bus, "report", {"n": i}) for i in range(20)]
        done = [await wait_for_task(services.pool, t, timeout_s=30) for t in ids]
    finally:
        for w in workers:
            await w.stop()
    assert [d["status"] for d in done] == ["completed"] * 20
    assert [d["result"]["echo"] for d in done] == list(range(20))
    assert a.handled and b.handled, "both instances should take work"
    assert sorted(a.handled + b.handled) == sorted(ids)
    completed = await services.pool.fetchval(
        "SELECT count(*) FROM agent_metrics WHERE metric_type = 'tasks_completed'")
    assert completed == 20
    row = await services.pool.fetchrow("SELECT * FROM agent_tasks WHERE task_id = $1", ids[0])
    assert row["execution_time_seconds"] >= 0.04 and row["started_at"] <= row["completed_at"]
    pending = await services.redis.xpending(work_stream("reporting"), group_name("reporting"))
    assert pending["pending"] == 0  # everything acknowledged


async def test_failure_is_recorded_with_the_reason(services: Services) -> None:
    worker = AgentWorker(EchoAgent(), services, FAST)
    await worker.start()
    try:
        task_id = await dispatch(services.pool, services.bus, "report", {"n": 1, "fail": True})
        task = await wait_for_task(services.pool, task_id, timeout_s=10)
    finally:
        await worker.stop()
    assert task["status"] == "failed" and task["error"] == "asked to fail"
    assert await services.pool.fetchval("SELECT count(*) FROM agent_metrics WHERE metric_type = 'tasks_failed'") == 1


async def test_registration_heartbeat_and_drain(services: Services) -> None:
    agent = EchoAgent(0.5)
    worker = AgentWorker(agent, services, FAST)
    await worker.start()
    row = (await registry.list_agents(services.pool))[0]
    assert row["agent_id"] == worker.agent_id and row["status"] == "healthy"
    assert row["capabilities"] == [{"name": "echo", "version": "1.0.0"}]
    assert row["endpoints"]["inbox_stream"] == f"agent:{worker.agent_id}:inbox"
    assert row["constraints"] == {"max_concurrent_tasks": 5}
    first_beat = row["health"]["last_heartbeat"]
    task_id = await dispatch(services.pool, services.bus, "report", {"n": 7})
    await asyncio.sleep(0.3)
    row = (await registry.list_agents(services.pool))[0]
    assert row["health"]["last_heartbeat"] > first_beat and row["health"]["active_tasks"] == 1
    await worker.stop()  # drains: the running task finishes first
    assert (await tasks.get(services.pool, task_id))["status"] == "completed"
    assert (await registry.list_agents(services.pool))[0]["status"] == "shutting_down"
    assert not await services.redis.exists(heartbeat_key(worker.agent_id))


async def test_silent_agent_is_marked_unhealthy_and_its_task_reclaimed(services: Services) -> None:
    """A consumer that took a message and went silent: another instance finishes the task once."""
    bus = Bus(services.redis)
    stream, group = work_stream("reporting"), group_name("reporting")
    await bus.ensure_group(stream, group)
    await registry.register(services.pool, agent_id="agent_reporting_ghost", agent_type="reporting",
                            capabilities=[], priority=5, inbox="agent:agent_reporting_ghost:inbox",
                            max_concurrent_tasks=1, host="h", pid=1)
    task_id = await dispatch(services.pool, bus, "report", {"n": 3})
    taken = await bus.read([stream], group, "agent_reporting_ghost", 1, 100)
    assert taken and await tasks.claim(services.pool, task_id, "agent_reporting_ghost", "ghost-token",
                                       lease_s=0.5, max_attempts=3)
    # The ghost never renews its lease nor heartbeats: after both lapse its task is fair game.
    worker = AgentWorker(EchoAgent(), services, FAST)
    await worker.start()
    try:
        task = await wait_for_task(services.pool, task_id, timeout_s=15)
        assert task["status"] == "completed" and task["assigned_agent_id"] == worker.agent_id
        assert task["attempts"] == 2
        assert not await tasks.complete(services.pool, task_id, "ghost-token", {"late": True})  # fenced
        reconciler = Reconciler(services.pool, services.redis, silent_after_s=0.5)
        await asyncio.sleep(0.6)
        assert (await reconciler.run_once())["unhealthy"] >= 1
        ghost = [a for a in await registry.list_agents(services.pool) if a["agent_id"] == "agent_reporting_ghost"]
        assert ghost[0]["status"] == "unhealthy"
    finally:
        await worker.stop()


async def test_a_busy_owner_keeps_its_message(services: Services) -> None:
    """Idle time alone must not steal a long task from a live instance."""
    slow = EchoAgent(delay_s=2.0)
    owner = AgentWorker(slow, services, FAST)
    await owner.start()
    task_id = await dispatch(services.pool, services.bus, "report", {"n": 1})
    await asyncio.sleep(0.2)
    other = EchoAgent()
    thief = AgentWorker(other, services, FAST)
    await thief.start()
    try:
        task = await wait_for_task(services.pool, task_id, timeout_s=10)
    finally:
        await thief.stop()
        await owner.stop()
    assert task["status"] == "completed" and task["assigned_agent_id"] == owner.agent_id
    assert other.handled == []


async def test_a_task_that_killed_its_workers_max_attempts_times_is_dead_lettered(services: Services) -> None:
    """Executions are counted per task (in Postgres), not per stream message."""
    task_id = await tasks.create(services.pool, "report", {"n": 1})
    for ghost in ("ghost1", "ghost2", "ghost3"):  # three executions whose workers died
        await registry.register(services.pool, agent_id=ghost, agent_type="reporting", capabilities=[], priority=5,
                                inbox=f"agent:{ghost}:inbox", max_concurrent_tasks=1, host="h", pid=1)
        assert await tasks.claim(services.pool, task_id, ghost, f"{ghost}-token", lease_s=0.05, max_attempts=3)
        await asyncio.sleep(0.1)
    worker = AgentWorker(EchoAgent(), services, FAST)
    await worker.start()
    try:
        await services.bus.send(work_stream("reporting"), task_id)
        task = await wait_for_task(services.pool, task_id, timeout_s=10)
    finally:
        await worker.stop()
    assert task["status"] == "failed" and task["attempts"] == 3
    assert "ran 3 times" in task["error"] and "dead-letter" in task["error"]
    dead = await services.redis.xrange(DEAD_LETTER_STREAM)
    assert dead and dead[0][1][b"task_id"].decode() == task_id


async def test_a_worker_whose_loop_is_blocked_keeps_its_task(services: Services) -> None:
    """Issue 12: a handler holding the loop longer than the lease and the heartbeat TTL.

    The lease is renewed from the keeper's thread, so the other instance
    (whose reclaim sees the owner's heartbeat expired) cannot claim it.
    """
    class Blocker(EchoAgent):
        async def handle(self, ctx: TaskContext) -> dict[str, Any]:
            self.handled.append(ctx.task_id)
            await asyncio.sleep(0.3)  # let the keeper renew once
            import time
            time.sleep(3.0)  # noqa: ASYNC251 - the point of the test: 3 lease lengths on the loop
            return {"blocked": True}

    owner_agent, other = Blocker(), EchoAgent()
    owner = AgentWorker(owner_agent, services, FAST)
    await owner.start()
    task_id = await dispatch(services.pool, services.bus, "report", {"n": 1})
    await asyncio.sleep(0.1)
    thief = AgentWorker(other, services, FAST)
    await thief.start()
    try:
        task = await wait_for_task(services.pool, task_id, timeout_s=20)
        await asyncio.sleep(1.5)  # a late reclaim would show now
    finally:
        await thief.stop()
        await owner.stop()
    assert task["status"] == "completed" and task["assigned_agent_id"] == owner.agent_id
    assert task["attempts"] == 1 and other.handled == [] and owner_agent.handled == [task_id]


async def test_a_holder_that_lost_its_lease_is_stopped_and_cannot_complete(services: Services) -> None:
    slow = EchoAgent(delay_s=30)
    worker = AgentWorker(slow, services, FAST)
    await worker.start()
    try:
        task_id = await dispatch(services.pool, services.bus, "report", {"n": 1})
        for _ in range(100):
            if slow.handled:
                break
            await asyncio.sleep(0.05)
        # Someone else holds it now (as after an expiry and a claim elsewhere).
        await services.pool.execute("UPDATE agent_tasks SET lease_token = 'theirs' WHERE task_id = $1", task_id)
        for _ in range(100):
            if not worker.active:
                break
            await asyncio.sleep(0.05)
        assert not worker.active, "the handler kept running without its lease"
        task = await tasks.get(services.pool, task_id)
        assert task["status"] == "in_progress" and task["lease_token"] == "theirs"
    finally:
        await worker.stop()


async def _false() -> bool:
    return False


async def test_trim_keeps_unacked_entries(services: Services) -> None:
    bus = Bus(services.redis)
    stream, group = work_stream("analysis"), group_name("analysis")
    await bus.ensure_group(stream, group)
    for i in range(10):
        await bus.send(stream, f"t{i}")
    read = await bus.read([stream], group, "c1", 10, 10)
    for message in read[:4] + read[6:]:  # 4 and 5 stay pending
        await bus.ack(message, group)
    await bus.send(stream, "undelivered")
    trimmed = await bus.trim(stream)
    assert trimmed == 4
    left = [e[1][b"task_id"].decode() for e in await services.redis.xrange(stream)]
    assert left[:2] == ["t4", "t5"] and left[-1] == "undelivered"


async def test_reconciler_redispatches_tasks_redis_lost(services: Services) -> None:
    task_id = await tasks.create(services.pool, "report", {"n": 9})  # in Postgres, never announced
    await services.pool.execute(
        "UPDATE agent_tasks SET created_at = created_at - interval '1 minute' WHERE task_id = $1", task_id)
    worker = AgentWorker(EchoAgent(), services, FAST)
    await worker.start()
    try:
        counts = await Reconciler(services.pool, services.redis).run_once()
        assert counts["redispatched"] == 1
        assert (await wait_for_task(services.pool, task_id, timeout_s=10))["status"] == "completed"
    finally:
        await worker.stop()
