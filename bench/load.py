"""Load: 100 concurrent generation requests against a scripted local model (issue 12, spec checklist).

Starts ``aiwebtest serve`` as a process of its own (embedded PostgreSQL and
Redis in a fresh data dir, every agent, the API), with a scripted
OpenAI-compatible model that answers at once, and drives it over HTTP
like any client would:

1. one request alone: the single-request rate on this machine, now;
2. N requests at once (default 100), each polled until it ends, while
   ``/api/health`` is timed every 0.5 s.

Prints completed/failed, throughput against the single request's rate
(a ratio, so it means the same on any machine), p50/p95 completion, the
largest place in line reported, peak RSS (the app and its children, and
the embedded servers) and the health latency p99 during the run.

    .venv/bin/python bench/load.py [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.served_app import served  # noqa: E402



def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


class Rss:
    """Peak resident memory of the app process tree and of the embedded servers."""

    def __init__(self, app_pid: int, data: Path) -> None:
        import psutil

        self.app = psutil.Process(app_pid)
        self.data = data
        self.peak_app_mb = 0.0
        self.peak_servers_mb = 0.0

    def sample(self) -> None:
        import psutil

        app = 0
        try:
            for proc in [self.app, *self.app.children(recursive=True)]:
                app += proc.memory_info().rss
        except psutil.Error:
            pass
        servers = 0
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                cmd = " ".join(proc.info["cmdline"] or [])
                if str(self.data) in cmd and proc.info["name"] in ("postgres", "redis-server"):
                    servers += proc.memory_info().rss
            except psutil.Error:
                continue
        self.peak_app_mb = max(self.peak_app_mb, app / 2**20)
        self.peak_servers_mb = max(self.peak_servers_mb, servers / 2**20)


async def _run(requests: int, timeout_s: float, search_time_s: int, mutation: bool) -> int:
    import httpx

    from tests.helpers.calc_suites import MODEL_REPLY
    from tests.helpers.llm_server import ScriptedLLM

    llm = ScriptedLLM(default={"content": MODEL_REPLY}).start()
    data = Path(tempfile.mkdtemp(prefix="awt-load-"))
    os.chmod(data, 0o755)
    repo = data / "repo"
    shutil.copytree(ROOT / "resources" / "sample_repo", repo)
    try:
        async with served(data, LLM_BASE_URL=llm.base_url) as app:
            url, token = app.url, app.token
            rss = Rss(app.process.pid, data)
            body = {"repository_url": str(repo), "target_files": ["calc.py"], "coverage_target": 0.5,
                    "max_rounds": 1, "strategy": "llm", "search_time_s": search_time_s, "mutation_score": mutation}
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                         timeout=120) as client:

                async def one(positions: list[int]) -> tuple[str, float, str]:
                    started = time.perf_counter()
                    reply = await client.post("/api/v2/tests/generate", json=body)
                    if reply.status_code != 200:
                        return "refused", time.perf_counter() - started, f"{reply.status_code} {reply.text[:200]}"
                    task_id = reply.json()["task_id"]
                    while time.perf_counter() - started < timeout_s:
                        await asyncio.sleep(1.0)
                        state = await client.get(f"/api/v2/tests/generate/{task_id}")
                        if state.status_code != 200:
                            continue
                        doc = state.json()
                        if doc.get("queue"):
                            positions.append(doc["queue"]["position"])
                        if doc["status"] in ("completed", "failed"):
                            return doc["status"], time.perf_counter() - started, str(doc.get("error") or "")
                    return "timed out", time.perf_counter() - started, ""

                print(f"load: app at {url}; data {data}", flush=True)
                status, warm_s, why = await one([])  # installs the generator tools into the fresh data dir
                print(f"  warm-up request: {status} in {warm_s:.1f} s {why}", flush=True)
                status, single_s, why = await one([])
                print(f"  one request alone: {status} in {single_s:.1f} s {why}", flush=True)
                if status != "completed":
                    return 1

                health_ms: list[float] = []
                stop = asyncio.Event()

                async def watch() -> None:
                    while not stop.is_set():
                        t0 = time.perf_counter()
                        try:
                            await client.get("/api/health")
                            health_ms.append((time.perf_counter() - t0) * 1000)
                        except httpx.HTTPError:
                            health_ms.append(float("inf"))
                        rss.sample()
                        await asyncio.sleep(0.5)

                watcher = asyncio.create_task(watch())
                positions: list[int] = []
                started = time.perf_counter()
                outcomes = await asyncio.gather(*(one(positions) for _ in range(requests)))
                wall_s = time.perf_counter() - started
                stop.set()
                await watcher
    finally:
        llm.stop()
    done = [s for st, s, _ in outcomes if st == "completed"]
    failed = [(st, why) for st, _, why in outcomes if st != "completed"]
    throughput = len(done) / wall_s
    print(f"  {requests} at once: {len(done)} completed, {len(failed)} not, in {wall_s:.0f} s")
    print(f"  throughput {throughput * 60:.1f} requests/min = {throughput * single_s:.2f}x one request's rate "
          f"({60 / single_s:.1f}/min)")
    print(f"  completion p50 {_quantile(done, 0.5):.0f} s, p95 {_quantile(done, 0.95):.0f} s, "
          f"max {max(done, default=0):.0f} s; largest place in line reported {max(positions, default=0)}")
    finite = [h for h in health_ms if h != float("inf")]
    print(f"  /api/health during the run: p50 {statistics.median(finite):.1f} ms, p99 {_quantile(finite, 0.99):.1f} ms, "
          f"{len(health_ms) - len(finite)} errors of {len(health_ms)}")
    print(f"  peak RSS: app and children {rss.peak_app_mb:.0f} MB, embedded servers {rss.peak_servers_mb:.0f} MB")
    for status, why in failed[:5]:
        print(f"  not completed: {status}: {why}")
    shutil.rmtree(data, ignore_errors=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one request may take")
    parser.add_argument("--search-time", type=int, default=10,
                        help="each request's search budget (CrossHair runs beside the model in round 1)")
    parser.add_argument("--mutation", action="store_true",
                        help="also measure each request's mutation score (15 s or more of CPU per request)")
    args = parser.parse_args()
    sys.exit(asyncio.run(_run(args.requests, args.timeout, args.search_time, args.mutation)))
