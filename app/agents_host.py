"""Runs agent instances inside this process (GUI, ``serve``, ``worker``, ``generate``).

It builds the ``Services`` agents share (Phase 2 client, LLM gateway,
working memory, Pynguin runner) and starts one ``AgentWorker`` per type
asked for, plus the reconciler.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from agents import concurrency
from agents.base import Agent, Services
from agents.generation.search import PynguinRunner
from agents.generation.symbolic import CrossHairRunner
from agents.llm_gateway import GatewaySettings, LLMGateway, api_key_from_keyring
from agents.memory import RemoteEmbedder, WorkingMemory
from agents.phase2_client import HttpPhase2, InProcessPhase2
from agents.reconciler import Reconciler
from agents.team import make_agent
from agents.worker import AgentWorker, WorkerSettings
from app.config import Config
from engine.engine import ExecutionEngine
from engine.repo_env import RepoEnvironments

log = logging.getLogger(__name__)


def build_gateway(config: Config, pool: asyncpg.Pool, redis: aioredis.Redis,
                  stored_base_url: str | None = None) -> LLMGateway | None:
    """The one gateway every model call goes through (generation, repair, tier 3, polish, embeddings),
    or None when no base URL is set anywhere. ``stored_base_url`` (system_config.llm_base_url, set in
    the Settings dialog) applies when the environment sets no LLM_BASE_URL; the key is the keyring's,
    else LLM_API_KEY. Blocking (the keyring): call it off the loop."""
    base_url = config.llm_base_url or stored_base_url
    if not base_url:
        return None
    key = api_key_from_keyring() or (config.llm_api_key.get_secret_value() if config.llm_api_key else None)
    return LLMGateway(pool, redis, GatewaySettings(base_url, config.llm_model, key, config.llm_limits_env))


def build_services(config: Config, pool: asyncpg.Pool, redis: aioredis.Redis,
                   engine: ExecutionEngine | None, gateway: LLMGateway | None) -> Services:
    data = config.data_dir
    embedder = None
    if gateway is not None and config.aiwebtest_embeddings_model:
        embedder = RemoteEmbedder(gateway, config.aiwebtest_embeddings_model)
    phase2 = HttpPhase2(config.phase2_api_url, config.api_token()) if config.phase2_api_url else InProcessPhase2(engine)
    store = None
    if config.vector_db_url:  # Qdrant for the vectors; PostgreSQL keeps the rows either way
        from agents.vector_store import QdrantStore

        key = config.vector_db_api_key.get_secret_value() if config.vector_db_api_key else None
        store = QdrantStore(config.vector_db_url, api_key=key)
    return Services(
        pool=pool, redis=redis, workspace=data / "workspaces", phase2=phase2, gateway=gateway,
        memory=WorkingMemory(pool, embedder, store=store), pynguin=PynguinRunner(data / "tools"),
        crosshair=CrossHairRunner(data / "tools"),
        envs=engine.envs if engine is not None else RepoEnvironments(
            data / "envs", install_undeclared=config.aiwebtest_install_undeclared),
    )


class AgentHost:
    """Attributes:
        workers: the running instances, one per type asked for.
    """

    def __init__(self, services: Services, agent_types: list[str], *, max_concurrent_tasks: int = 5,
                 reconcile: bool = True, lease_s: float = 20.0, max_attempts: int = 5, extra_agents: list[Agent] | None = None) -> None:
        """``extra_agents``: agent objects of other types (``aiwebtest worker --agent-class``); a task
        type they handle is announced on the stream named after that type."""
        self.services = services
        self.agent_types = agent_types
        self.extra_agents = list(extra_agents or [])
        self.max_concurrent_tasks = max_concurrent_tasks
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.workers: list[AgentWorker] = []
        self.reconciler = (Reconciler(services.pool, services.redis, max_attempts=max_attempts)
                           if reconcile and (agent_types or self.extra_agents) else None)

    async def start(self) -> None:
        Path(self.services.workspace).mkdir(parents=True, exist_ok=True)
        for agent in [*(make_agent(t) for t in self.agent_types), *self.extra_agents]:
            worker = AgentWorker(agent, self.services, self.settings_for(agent.agent_type))
            await worker.start()
            self.workers.append(worker)
        if self.reconciler is not None:
            self.reconciler.start()

    def settings_for(self, agent_type: str) -> WorkerSettings:
        return WorkerSettings(max_concurrent_tasks=concurrency.slots(agent_type, self.max_concurrent_tasks),
                              lease_s=self.lease_s, renew_every_s=max(self.lease_s / 10, 0.2),
                              max_attempts=self.max_attempts)

    async def add_instance(self, agent_type: str) -> AgentWorker:
        worker = AgentWorker(make_agent(agent_type), self.services, self.settings_for(agent_type))
        await worker.start()
        self.workers.append(worker)
        return worker

    async def stop(self, drain_timeout_s: float = 30.0) -> None:
        if self.reconciler is not None:
            await self.reconciler.stop()
        # All at once: draining one type after another made a shutdown wait up to
        # 30 s per busy type (an orchestration waiting on its evolve child: 60 s).
        await asyncio.gather(*(worker.stop(drain_timeout_s) for worker in self.workers))
        self.workers.clear()
        if self.services.gateway is not None:
            await self.services.gateway.close()
        store = getattr(self.services.memory, "store", None)
        if store is not None:
            await store.close()
