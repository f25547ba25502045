"""The app without any front end: services, database, Redis, lifecycle.

Start-up runs in phases (house style): ``AppCore(config)`` does no I/O,
``start()`` opens services, migrates and opens pools, and ``shutdown()``
closes everything in reverse. The GUI, ``serve`` and the CLI commands all
build on this one object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import asyncpg
import redis.asyncio as aioredis

from app import health, system_config
from app.config import Config
from app.db import create_pool
from app.migrations import migrate
from app.services import Endpoints, ServiceManager

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class AppCore:
    """Owns the servers, the Postgres pool and the Redis client.

    Attributes:
        timings_s: how long each start-up phase took (for ``--smoke`` and benchmarks).
        applied_migrations: names applied by the last ``start()``.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.services = ServiceManager(config)
        self.pool: asyncpg.Pool | None = None
        self.redis: aioredis.Redis | None = None
        self.endpoints: Endpoints | None = None
        self.timings_s: dict[str, float] = {}
        self.applied_migrations: list[str] = []

    async def start(self, progress: Progress | None = None) -> None:
        say = progress or (lambda _msg: None)
        try:
            t0 = time.perf_counter()
            say("Starting PostgreSQL and Redis…")
            self.endpoints = await self.services.start()
            t1 = time.perf_counter()
            say("Applying migrations…")
            conn = await asyncpg.connect(self.endpoints.postgres_url)
            try:
                self.applied_migrations = await migrate(conn)
                await system_config.seed_from_env(conn, self.config)
            finally:
                await conn.close()
            t2 = time.perf_counter()
            self.pool = await create_pool(self.endpoints.postgres_url)
            self.redis = aioredis.from_url(
                self.endpoints.redis_url, health_check_interval=10, socket_connect_timeout=5
            )
            await self.redis.ping()
            t3 = time.perf_counter()
        except BaseException:
            await self.shutdown()
            raise
        self.timings_s = {"services": t1 - t0, "migrations": t2 - t1, "pools": t3 - t2}
        say("Ready")

    async def health(self) -> health.HealthReport:
        assert self.pool is not None and self.redis is not None and self.endpoints is not None
        ep = self.endpoints
        return await health.check(
            self.pool,
            self.redis,
            postgres_where=(ep.postgres_mode, ep.postgres_where),
            redis_where=(ep.redis_mode, ep.redis_where),
        )

    async def shutdown(self) -> None:
        """Close in reverse order; safe to call twice or after a failed start."""
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None
        if self.pool is not None:
            try:
                await _close_pool(self.pool)
            finally:
                self.pool = None
        await self.services.stop()
        self.endpoints = None


async def _close_pool(pool: asyncpg.Pool, timeout_s: float = 10.0) -> None:
    """Close the pool, terminating connections still busy after ``timeout_s``."""
    try:
        await asyncio.wait_for(pool.close(), timeout_s)
    except TimeoutError:
        log.warning("pool did not close within %.0f s; terminating connections", timeout_s)
        pool.terminate()
