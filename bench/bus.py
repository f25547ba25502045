"""Bus throughput and latency, and a generation request's own overhead.

Run by hand: ``.venv/bin/python bench/bus.py`` (``apt-get install redis-tools``
for the baseline; without it a pipelined redis-py XADD loop stands in).

1. Baseline: ``redis-benchmark`` XADD against the same embedded Redis.
2. Raw bus: ``Bus.send`` / ``Bus.read`` / ``Bus.ack`` (Redis only), msgs/s.
3. Tasks through the runtime: dispatch (Postgres row + XADD) -> worker
   claims, handles (no-op), completes in Postgres, records metrics, acks.
   Tasks/s and round trip p50/p99 from the rows' own timestamps.
4. A generation request with an instant scripted model: total time minus
   the time spent in Phase 2 executions = the agents' overhead.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.base import Services, dispatch, wait_for_task  # noqa: E402
from agents.bus import Bus  # noqa: E402
from agents.worker import AgentWorker, WorkerSettings  # noqa: E402
from app.config import load_config  # noqa: E402
from app.core import AppCore  # noqa: E402
from engine.generate_request import GenerateRequest  # noqa: E402

N = 2000


class NoOp:
    agent_type = "reporting"
    capabilities = [{"name": "noop", "version": "1"}]
    priority = 5

    async def handle(self, ctx):
        return {}


def redis_benchmark(socket_path: str) -> float | None:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        return None
    out = subprocess.run([exe, "-s", socket_path, "-n", "50000", "-c", "1", "-q", "xadd", "bench:raw", "*", "f", "v"],
                         capture_output=True, text=True).stdout
    match = re.search(r"([0-9.]+) requests per second", out.replace(",", ""))
    return float(match.group(1)) if match else None


async def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="awt-bench-"))
    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(data), aiwebtest_agents="none"),
                   serve_api=False)
    await core.start()
    try:
        socket_path = core.endpoints.redis_url.removeprefix("unix://")
        baseline = redis_benchmark(socket_path)
        redis, pool = core.redis, core.pool
        bus = Bus(redis)

        # Raw bus, one consumer, same single connection style as redis-benchmark -c 1.
        await bus.ensure_group("bench:bus", "g")
        start = time.perf_counter()
        for i in range(N):
            await bus.send("bench:bus", f"t{i}")
        got = 0
        while got < N:
            for m in await bus.read(["bench:bus"], "g", "c", 100, 100):
                await bus.ack(m, "g")
                got += 1
        raw_rate = 2 * N / (time.perf_counter() - start)  # a send and a receive+ack per message

        # Tasks through the runtime with two worker instances.
        services = Services(pool=pool, redis=redis, workspace=data / "ws")
        workers = [AgentWorker(NoOp(), services, WorkerSettings(max_concurrent_tasks=20, block_ms=50))
                   for _ in range(2)]
        for w in workers:
            await w.start()
        start = time.perf_counter()
        ids = [await dispatch(pool, services.bus, "report", {"i": i}) for i in range(N // 4)]
        await wait_for_task(pool, ids[-1], timeout_s=300)
        while await pool.fetchval("SELECT count(*) FROM agent_tasks WHERE status <> 'completed'"):
            await asyncio.sleep(0.05)
        task_rate = len(ids) / (time.perf_counter() - start)
        rtts = [r["ms"] for r in await pool.fetch(
            "SELECT EXTRACT(EPOCH FROM completed_at - created_at) * 1000 AS ms FROM agent_tasks")]
        for w in workers:
            await w.stop()
    finally:
        await core.shutdown()

    # A generation request with an instant model: the agents' own overhead.
    from tests.helpers.llm_server import ScriptedLLM

    llm = ScriptedLLM([{"content": "```python\nfrom calc import classify\n\ndef test_c():\n"
                        "    assert classify(-1) == 'negative'\n    assert classify(0) == 'zero'\n"
                        "    assert classify(1) == 'positive'\n```"}] * 10).start()
    data2 = Path(tempfile.mkdtemp(prefix="awt-bench-"))
    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(data2), llm_base_url=llm.base_url),
                   serve_api=False)
    await core.start()
    overheads = []
    try:
        repo = ROOT / "resources" / "sample_repo"
        for _ in range(3):
            await core.pool.execute("DELETE FROM executions")
            t0 = time.perf_counter()
            sub = await core.generation.submit(GenerateRequest(repository_url=str(repo), target_files=["calc.py"], coverage_target=0.3,
                                                               max_rounds=1), use_agents=True)
            state = await core.generation.wait(sub["task_id"], timeout_s=300)
            total = time.perf_counter() - t0
            assert state["status"] == "completed", state["error"]
            engine_s = await core.pool.fetchval(
                "SELECT COALESCE(sum(EXTRACT(EPOCH FROM completed_at - created_at)), 0) FROM executions")
            overheads.append((total, float(engine_s)))
    finally:
        await core.shutdown()
        llm.stop()

    q = statistics.quantiles(rtts, n=100)
    print(f"bus benchmark ({N} messages, 2 cores)")
    if baseline:
        print(f"  redis-benchmark XADD (baseline)        {baseline:10.0f} ops/s   1.00x")
    print(f"  raw bus send + read/ack                 {raw_rate:10.0f} ops/s   "
          + (f"{raw_rate / baseline:.2f}x" if baseline else "(no redis-benchmark)"))
    print(f"  tasks through the runtime (PG + Redis)  {task_rate:10.0f} tasks/s  "
          + (f"{task_rate / baseline:.4f}x" if baseline else ""))
    print(f"  task round trip (dispatch -> completed in Postgres): p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms")
    total = statistics.median(t for t, _ in overheads)
    engine = statistics.median(e for _, e in overheads)
    print(f"  generation request (instant model): total {total:.2f} s, in the engine {engine:.2f} s, "
          f"agents' overhead {total - engine:.2f} s (median of {len(overheads)})")


if __name__ == "__main__":
    asyncio.run(main())
