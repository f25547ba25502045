"""The app without any front end: services, database, Redis, lifecycle.

Start-up runs in phases (house style): ``AppCore(config)`` does no I/O,
``start()`` opens services, migrates and opens pools, and ``shutdown()``
closes everything in reverse. The GUI, ``serve`` and the CLI commands all
build on this one object.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from app import health, system_config
from app.agents_host import AgentHost, build_gateway, build_services
from app.alerts import AlertMonitor
from app.gc_pauses import PAUSES, freeze_startup
from app.memory_trim import MemoryTrim
from app.api import create_api
from app.api_server import ApiServer
from app.config import Config
from app.config_watch import ConfigWatcher
from app.db import create_pool, create_redis
from app.generation import GenerationService
from app.migrations import migrate
from app.services import Endpoints, ServiceManager
from app.supervisor import ServerSupervisor
from engine.engine import ExecutionEngine
from engine.errors import ServiceError
from engine.repo_env import RepoEnvironments

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class AppCore:
    """Owns the servers, the Postgres pool and the Redis client.

    Attributes:
        timings_s: how long each start-up phase took (for ``--smoke`` and benchmarks).
        applied_migrations: names applied by the last ``start()``.
    """

    def __init__(self, config: Config, *, serve_api: bool = True, api_required: bool = True,
                 agent_types: list[str] | None = None, extra_agents: list[Any] | None = None) -> None:
        self.config = config
        self.agent_types = config.agent_types if agent_types is None else agent_types
        self.extra_agents = list(extra_agents or [])
        self.agents: AgentHost | None = None
        self.config_watcher: ConfigWatcher | None = None
        self.generation: GenerationService | None = None
        self.serve_api = serve_api
        self.api_required = api_required
        self.engine: ExecutionEngine | None = None
        self.api: ApiServer | None = None
        self.api_error: str | None = None
        self.services = ServiceManager(config)
        self.pool: asyncpg.Pool | None = None
        self.redis: aioredis.Redis | None = None
        self.endpoints: Endpoints | None = None
        self.supervisor: ServerSupervisor | None = None
        self.alert_monitor: AlertMonitor | None = None
        self.memory_trim: MemoryTrim | None = None
        self.timings_s: dict[str, float] = {}
        self.applied_migrations: list[str] = []

    async def start(self, progress: Progress | None = None) -> None:
        say = progress or (lambda _msg: None)
        try:
            t0 = time.perf_counter()
            say("Starting PostgreSQL and Redis…")
            self.endpoints = await self.services.start()
            self.supervisor = ServerSupervisor(self.services)
            self.supervisor.start()
            self.memory_trim = MemoryTrim()  # app/memory_trim.py: RSS otherwise grows ~2 MB/min in use
            self.memory_trim.start()
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
            self.redis = create_redis(self.endpoints.redis_url)
            await self.redis.ping()
            self.config_watcher = ConfigWatcher(self.endpoints.postgres_url, self.redis)
            await self.config_watcher.start()
            stored_url = await system_config.get(self.pool, "llm_base_url")
            # One gateway for the engine's tiers 2 and 3 and for the agents (issue 16); the keyring may block.
            gateway = await asyncio.to_thread(build_gateway, self.config, self.pool, self.redis, stored_url)
            self.engine = ExecutionEngine(self.pool, llm=gateway, envs=RepoEnvironments(
                self.config.data_dir / "envs", install_undeclared=self.config.aiwebtest_install_undeclared),
                                          stagehand=self.config.stagehand)
            if self.config.vector_db_url:  # qdrant_client takes 0.7 s to import: not on the event loop
                await asyncio.to_thread(importlib.import_module, "qdrant_client")
            services = build_services(self.config, self.pool, self.redis, self.engine, gateway)
            self.generation = GenerationService(self.pool, self.config, services)
            if self.agent_types:
                say(f"Starting agents: {', '.join(self.agent_types)}…")
            limit = await system_config.get(self.pool, "max_concurrent_tasks")
            self.agents = AgentHost(services, self.agent_types, max_concurrent_tasks=int(limit or 5),
                                    lease_s=self.config.agent_lease_s,
                                    max_attempts=self.config.agent_max_attempts, extra_agents=self.extra_agents)
            await self.agents.start()
            t3 = time.perf_counter()
            if self.serve_api:  # the GUI and serve watch the alerts; a worker leaves that to them
                self.alert_monitor = AlertMonitor(self.pool)
                self.alert_monitor.start()
                say("Starting the API…")
                await self._start_api()
            t4 = time.perf_counter()
        except BaseException:
            await self.shutdown()
            raise
        self.timings_s = {"services": t1 - t0, "migrations": t2 - t1, "pools": t3 - t2, "api": t4 - t3}
        # Everything alive now (modules, schemas, the agents) lives as long as the app. Frozen, the
        # collector stops re-scanning it in every full collection: tests/app/test_loop_blocking.py
        # measured one full collection holding the loop for 146 ms of CPU before, none over 100 ms after.
        freeze_startup()  # app/gc_pauses.py
        PAUSES.start()
        # "pools" includes starting the in-process agents.
        say("Ready")

    async def _start_api(self) -> None:
        assert self.engine is not None and self.pool is not None
        server = ApiServer(create_api(self.engine, self.pool, self.generation, token=self.config.api_token(),
                                      health_probe=self.health, allowed_hosts=self.config.api_allowed_hosts),
                           host=self.config.aiwebtest_api_host, port=self.config.aiwebtest_api_port)
        try:
            await server.start()
        except ServiceError as exc:
            if self.api_required:
                raise
            self.api_error = str(exc)
            log.warning("%s", exc)
            return
        self.api = server

    async def health(self) -> health.HealthReport:
        assert self.pool is not None and self.redis is not None and self.endpoints is not None
        ep = self.endpoints
        return await health.check(
            self.pool,
            self.redis,
            postgres_where=(ep.postgres_mode, ep.postgres_where),
            redis_where=(ep.redis_mode, ep.redis_where),
            supervision={name: st.describe() for name, st in self.supervisor.states.items()}
            if self.supervisor is not None else None,
            vectors=(store.where, store.ping()) if (store := self.vector_store()) is not None else None,
        )

    def vector_store(self) -> Any:
        """The Qdrant store working memory uses, or None (pgvector in PostgreSQL)."""
        memory = self.agents.services.memory if self.agents is not None else None
        return getattr(memory, "store", None)

    async def shutdown(self) -> None:
        """Close in reverse order; safe to call twice or after a failed start."""
        if self.memory_trim is not None:
            await self.memory_trim.stop()
            self.memory_trim = None
        if self.alert_monitor is not None:
            await self.alert_monitor.stop()
            self.alert_monitor = None
        if self.api is not None:
            await self.api.stop()
            self.api = None
        if self.generation is not None:
            await self.generation.close()
            self.generation = None
        if self.agents is not None:
            await self.agents.stop()
            self.agents = None
        if self.config_watcher is not None:
            await self.config_watcher.stop()
            self.config_watcher = None
        if self.supervisor is not None:  # before the servers stop, or it would start them again
            await self.supervisor.stop()
            self.supervisor = None
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
