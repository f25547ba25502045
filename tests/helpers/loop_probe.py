"""Socket round trips on the app's real loop (QApplication + qasync), counting None's references.

Run as ``python -m tests.helpers.loop_probe --postgres URL --redis URL --round-trips N``.
It prints one JSON line: the round trips done per kind and
``sys.getrefcount(None)`` before and after. PySide6 6.12 + qasync on
Python 3.11 drop that count by ~8 per round trip until the interpreter
aborts with "none_dealloc" (issue 9); a clean stack keeps it level.

The process exits through normal interpreter finalization, so a broken
stack also shows as a non-zero exit.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys


async def _round_trips(postgres_url: str, redis_url: str, count: int) -> dict[str, int]:
    import asyncpg
    import httpx
    import redis.asyncio as aioredis
    from fastapi import FastAPI

    from app.api_server import ApiServer

    api = FastAPI()

    @api.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    server = ApiServer(api, port=0)
    await server.start()
    conn = await asyncpg.connect(postgres_url)
    rds = aioredis.from_url(redis_url)
    http = httpx.AsyncClient(base_url=server.url)
    done = {"postgres": 0, "redis": 0, "http": 0}
    try:
        # A few of each first, so lazily created objects exist before counting.
        await conn.fetchval("SELECT 1")
        await rds.ping()
        await http.get("/ping")
        gc.collect()
        before = sys.getrefcount(None)
        for i in range(count):
            kind = ("postgres", "redis", "http")[i % 3]
            if kind == "postgres":
                await conn.fetchval("SELECT 1")
            elif kind == "redis":
                await rds.ping()
            else:
                (await http.get("/ping")).raise_for_status()
            done[kind] += 1
        gc.collect()
        after = sys.getrefcount(None)
    finally:
        await http.aclose()
        await rds.aclose()
        await conn.close()
        await server.stop()
    return {**done, "none_refcount_before": before, "none_refcount_after": after}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--round-trips", type=int, default=20_000)
    args = parser.parse_args()

    import PySide6
    import qasync

    from ui.gui_app import qt_application

    qt_application()
    figures = qasync.run(_round_trips(args.postgres, args.redis, args.round_trips))
    figures["pyside6"] = PySide6.__version__
    figures["python"] = sys.version.split()[0]
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
