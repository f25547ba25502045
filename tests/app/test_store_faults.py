"""The embedded stores failing under the app while generations run (issue 12).

One app (embedded PostgreSQL and Redis of its own, the API, every agent,
a scripted model slow enough to keep work in flight) takes three faults in
turn, each during 5 in-flight generations: ``pg_ctl restart -m fast``,
PostgreSQL kill -9, Redis kill -9. After each: all 5 complete, a killed
server is running again within 15 s (the app restarted it), and the API
answered every request meanwhile with 200 or 503, never 500.
"""

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from app.core import AppCore
from tests.conftest import make_config
from tests.helpers.calc_suites import MODEL_REPLY
from tests.helpers.llm_server import ScriptedLLM

pytestmark = pytest.mark.slow



class ApiWatch:
    """Hits the API every 100 ms while a fault lasts and counts the status codes."""

    def __init__(self, client: httpx.AsyncClient, task_ids: list[str]) -> None:
        self.client = client
        self.task_ids = task_ids
        self.codes: Counter[int] = Counter()
        self.errors: list[str] = []

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            path = ("/api/health", "/api/v2/agents", f"/api/v2/tests/generate/{self.task_ids[n % 5]}")[n % 3]
            n += 1
            try:
                reply = await self.client.get(path, timeout=30)
            except httpx.HTTPError as exc:
                self.errors.append(f"{path}: {type(exc).__name__}")
            else:
                self.codes[reply.status_code] += 1
                if reply.status_code == 503:
                    assert reply.headers.get("retry-after"), path
            await asyncio.sleep(0.1)


async def _back_within(alive: Callable[[], bool], timeout_s: float) -> float:
    started = time.monotonic()
    while not alive():
        assert time.monotonic() - started < timeout_s, f"not running again after {timeout_s:.0f} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_generations_survive_postgres_restart_postgres_kill_and_redis_kill(
    data_dir: Path, sample_repo: Path
) -> None:
    llm = ScriptedLLM(default={"content": MODEL_REPLY, "delay_s": 0.3}).start()
    config = make_config(data_dir, llm_base_url=llm.base_url, aiwebtest_api_port=0)
    core = AppCore(config)
    await core.start()
    try:
        assert core.api is not None and core.supervisor is not None
        client = httpx.AsyncClient(base_url=core.api.url, headers={"Authorization": f"Bearer {config.api_token()}"})
        pg, rd = core.services.postgres, core.services.redis

        async def restart_fast() -> None:
            await pg._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-l", str(pg.log_file), check=False)

        async def kill_postgres() -> None:
            info = pg.running_info()
            assert info is not None
            os.kill(info.pid, signal.SIGKILL)

        async def kill_redis() -> None:
            info = rd.running_info()
            assert info is not None
            os.kill(info.pid, signal.SIGKILL)

        faults: list[tuple[str, Callable[[], Awaitable[None]], Callable[[], bool]]] = [
            ("pg_ctl restart -m fast", restart_fast, lambda: pg.running_info() is not None),
            ("PostgreSQL kill -9", kill_postgres, lambda: pg.running_info() is not None),
            ("Redis kill -9", kill_redis, lambda: rd.running_info() is not None),
        ]
        report = []
        for name, fault, alive in faults:
            ids = []
            for _ in range(5):
                reply = await client.post("/api/v2/tests/generate", json={
                    "repository_url": str(sample_repo), "target_files": ["calc.py"], "coverage_target": 0.5,
                    "max_rounds": 1, "strategy": "llm", "search_time_s": 5,
                    "mutation_score": False})
                assert reply.status_code == 200, reply.text
                ids.append(reply.json()["task_id"])
            await asyncio.sleep(2.0)  # in flight: observed, started evolving
            watch, stop = ApiWatch(client, ids), asyncio.Event()
            watcher = asyncio.create_task(watch.run(stop))
            await fault()
            await asyncio.sleep(0.5)
            back_s = await _back_within(alive, 15)
            states = {}
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                for task_id in ids:
                    reply = await client.get(f"/api/v2/tests/generate/{task_id}", timeout=30)
                    if reply.status_code == 200:
                        states[task_id] = reply.json()
                if len(states) == 5 and all(s["status"] in ("completed", "failed") for s in states.values()):
                    break
                await asyncio.sleep(0.5)
            stop.set()
            await watcher
            outcomes = [(s["status"], s.get("error")) for s in states.values()]
            report.append(f"{name}: back in {back_s:.1f} s, API {dict(watch.codes)}, {outcomes.count(('completed', None))}/5 completed")
            assert watch.codes[500] == 0, (name, watch.codes)
            assert [s for s, _ in outcomes] == ["completed"] * 5, (name, outcomes)
            assert not watch.errors, (name, watch.errors[:5])
        restarts = {n: s.restarts for n, s in core.supervisor.states.items()}
        assert restarts["postgres"] >= 1 and restarts["redis"] >= 1, restarts
        health = await client.get("/api/health")
        assert health.status_code == 200 and health.json()["stores"]["redis"]["supervision"].startswith("up")
        print("\n" + "\n".join(report))
        await client.aclose()
    finally:
        await core.shutdown()
        llm.stop()
