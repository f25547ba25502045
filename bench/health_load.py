"""/api/health under load against a plain route, in the same run (issue 28: health p99 was 372 ms).

Run by hand: ``.venv/bin/python bench/health_load.py [--concurrent 100] [--rounds 5]``.

Starts ``aiwebtest serve`` in a fresh data dir, then fires ``--concurrent``
requests at once at ``/api/health`` and as many at ``/api/v1/settings`` (a
plain route: one PostgreSQL read), ``--rounds`` times, interleaved, and
prints p50/p99 of each and the ratio health/plain. Health checks both stores
and the sandbox; before the probe's answer was kept in memory each call ran
``bwrap`` through a thread of the default pool.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.served_app import served  # noqa: E402


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(concurrent: int, rounds: int) -> int:
    data = Path(tempfile.mkdtemp(prefix="aiwebtest-health-"))
    try:
        async with served(data, AIWEBTEST_AGENTS="none") as app:
            url, token = app.url, app.token
            limits = httpx.Limits(max_connections=concurrent * 2)
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                                         limits=limits) as client:
                times: dict[str, list[float]] = {"/api/health": [], "/api/v1/settings": []}

                async def one(path: str) -> None:
                    started = time.perf_counter()
                    answer = await client.get(path)
                    answer.raise_for_status()
                    times[path].append((time.perf_counter() - started) * 1000)

                await asyncio.gather(*(one(p) for p in times))  # warm both
                for path in times:
                    times[path].clear()
                for _ in range(rounds):
                    for path in times:
                        await asyncio.gather(*(one(path) for _ in range(concurrent)))
            h, s = times["/api/health"], times["/api/v1/settings"]
            print(f"{concurrent} concurrent x {rounds} rounds: /api/health p50 {statistics.median(h):.0f} ms p99 "
                  f"{_p(h, 0.99):.0f} ms; /api/v1/settings p50 {statistics.median(s):.0f} ms p99 {_p(s, 0.99):.0f} ms; "
                  f"health/plain p99 {_p(h, 0.99) / _p(s, 0.99):.2f}x")
            return 0
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.concurrent, args.rounds)))
