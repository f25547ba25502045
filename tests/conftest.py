"""Shared fixtures: one real embedded PostgreSQL and Redis for the session.

With ``POSTGRES_URL`` / ``REDIS_STREAMS_URL`` set, the suite uses those
servers instead (each test still gets a database of its own).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
import redis.asyncio as aioredis

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings and platformdirs must not touch the developer's real files.
_SANDBOX_HOME = Path(tempfile.mkdtemp(prefix="aiwebtest-tests-"))
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_SANDBOX_HOME / "data")
os.environ["XDG_STATE_HOME"] = str(_SANDBOX_HOME / "state")
os.environ["AIWEBTEST_LOG_DIR"] = str(_SANDBOX_HOME / "log")
for _var in ("AGENTS_ENABLED", "LLM_API_KEY", "LLM_BASE_URL", "AIWEBTEST_DATA_DIR", "LLM_MODEL", "LLM_PROFILE",
             "LLM_FIRST_TOKEN_TIMEOUT_S", "LLM_STALL_TIMEOUT_S", "LLM_MAX_RETRIES", "LLM_MAX_TOKENS"):
    os.environ.pop(_var, None)

from app.config import Config, load_config  # noqa: E402
from app.db import create_pool  # noqa: E402
from app.services import Endpoints, ServiceManager  # noqa: E402
from tests.helpers.pg import migrate_database, with_database  # noqa: E402

if TYPE_CHECKING:  # fixture annotations only
    import httpx

    from agents.base import Services
    from agents.llm_gateway import LLMGateway
    from agents.generation.search import PynguinRunner
    from agents.generation.symbolic import CrossHairRunner
    from app.agents_host import AgentHost
    from app.generation import GenerationService
    from engine.engine import ExecutionEngine
    from tests.helpers.llm_server import ScriptedLLM
    from tests.helpers.memory_keyring import MemoryKeyring
    from tests.helpers.web import LocalSite


# -- work that only waits, started early so the suite runs on meanwhile ------------

_PROBE_TEST = "test_a_90_s_answer_succeeds_under_the_local_profile_and_times_out_cleanly_under_the_hosted_one"
_PROBE = pytest.StashKey["subprocess.Popen[str] | None"]()


# The longest single test goes first: the bundle build (120-200 s) sat late in alphabetical order, and xdist
# handed it out near the end, one worker building alone while the other had nothing left. First, it is in the
# first worker's opening batch and the rest is shared out around it.
_FIRST = ("test_the_bundle_and_its_deb",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the 90 s slow-model probe (tests/helpers/slow_answer_probe.py) now when its test will run:
    90 s of waiting for a server, spent while the other tests run. The longest test is put first."""
    import subprocess

    items.sort(key=lambda item: item.name not in _FIRST)  # a stable sort: the rest keep their order
    if not os.environ.get("AIWEBTEST_SOAK_TESTS"):
        # Minutes of the real app each (200 generations: 135 s alone, 600 s beside the rest of the suite): the
        # 15-minute suite cannot hold them. `make heap-check` runs them; the skip says so in the summary.
        soak = pytest.mark.skip(reason="a soak test (minutes of the real app): run it with `make heap-check`")
        for item in items:
            if item.get_closest_marker("soak"):
                item.add_marker(soak)

    config.stash[_PROBE] = None
    if any(item.name == _PROBE_TEST for item in items):
        config.stash[_PROBE] = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.slow_answer_probe"], cwd=Path(__file__).parents[1],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    probe = session.config.stash.get(_PROBE, None)
    if probe is not None and probe.poll() is None:  # its test did not run (-x, an interrupt)
        probe.kill()
        probe.wait(timeout=30)


@pytest.fixture
def slow_answer_probe(request: pytest.FixtureRequest) -> dict:
    """What the probe started at collection found (it is waited for here)."""
    import json

    probe = request.config.stash.get(_PROBE, None)
    if probe is None:
        pytest.fail("the slow-answer probe was not started at collection")
    out, err = probe.communicate(timeout=200)
    assert probe.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


# Past this, a test's asyncio tasks are printed and cancelled (below pytest-timeout's 300 s).
STUCK_AFTER_S = 240.0


def _running_loops() -> list[asyncio.AbstractEventLoop]:
    return [obj for obj in gc.get_objects()
            if isinstance(obj, asyncio.AbstractEventLoop) and obj.is_running() and not obj.is_closed()]


def _dump_and_cancel(loop: asyncio.AbstractEventLoop) -> None:
    print(f"\n== a test is stuck after {STUCK_AFTER_S:.0f} s; its tasks: ==", file=sys.stderr)
    for task in asyncio.all_tasks(loop):
        task.print_stack(limit=12, file=sys.stderr)
    for task in asyncio.all_tasks(loop):
        task.cancel()


@pytest.fixture(autouse=True)
def stuck_test_guard() -> Iterator[None]:
    """Turns a test that awaits for ever into a failure that shows which await.

    pytest-timeout alone shows only the main thread sitting in the
    selector, not the coroutine that waits; under qasync it cannot fire at
    all while Qt sleeps in poll(). A thread can wake any running loop
    (call_soon_threadsafe), print every task's stack and cancel them, so
    the await that never returned is in the report.
    """
    timer = threading.Timer(STUCK_AFTER_S, lambda: [loop.call_soon_threadsafe(_dump_and_cancel, loop)
                                                    for loop in _running_loops()])
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


def make_config(data_dir: Path | str, **overrides: object) -> Config:
    """A Config that ignores any ``.env`` in the working directory."""
    return load_config(env_file=None, aiwebtest_data_dir=str(data_dir), **overrides)


@pytest.fixture(scope="session")
def servers() -> Iterator[Endpoints]:
    """The session's PostgreSQL and Redis (embedded unless URLs are set)."""
    data_dir = Path(tempfile.mkdtemp(prefix="aiwebtest-session-"))
    config = load_config(
        env_file=None,
        aiwebtest_data_dir=str(data_dir),
        postgres_url=os.environ.get("POSTGRES_URL"),
        redis_streams_url=os.environ.get("REDIS_STREAMS_URL"),
    )
    manager = ServiceManager(config)
    endpoints = asyncio.run(manager.start())
    yield endpoints
    asyncio.run(manager.stop())


@pytest.fixture
async def fresh_db(servers: Endpoints) -> AsyncIterator[str]:
    """URL of a new, empty database, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(servers.postgres_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield with_database(servers.postgres_url, name)
    admin = await asyncpg.connect(with_database(servers.postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def migrated_db(fresh_db: str) -> str:
    await migrate_database(fresh_db)
    return fresh_db


@pytest.fixture
async def conn(migrated_db: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(migrated_db)
    yield connection
    await connection.close()


@pytest.fixture
async def pool(migrated_db: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(migrated_db, max_size=4)
    yield p
    await p.close()


@pytest.fixture
async def redis_client(servers: Endpoints) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(servers.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A short, fresh data dir (unix socket paths must stay short)."""
    path = Path(tempfile.mkdtemp(prefix="awt-"))
    yield path


# -- engine, API, LLM and web fixtures -------------------------------------

SAMPLE_REPO = Path(__file__).parents[1] / "resources" / "sample_repo"  # one copy, shared with --screenshots


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A copy of the sample repository (tests may not write into the source tree)."""
    import shutil

    target = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, target)
    return target


@pytest.fixture
def scripted_llm() -> Iterator["ScriptedLLM"]:
    from tests.helpers.llm_server import ScriptedLLM

    server = ScriptedLLM().start()
    yield server
    server.stop()


@pytest.fixture
async def llm_gateway(pool: asyncpg.Pool, redis_client: aioredis.Redis,
                      scripted_llm: "ScriptedLLM") -> AsyncIterator["LLMGateway"]:
    """The real gateway on the scripted server, with a fresh budget counter (hosted profile, key sk-test)."""
    from agents.llm_gateway import GatewaySettings, LLMGateway

    await redis_client.flushdb()
    gateway = LLMGateway(pool, redis_client, GatewaySettings(scripted_llm.base_url, "gpt-4o-mini", "sk-test"))
    yield gateway
    await gateway.close()


@pytest.fixture
async def stagehand_engine(pool: asyncpg.Pool, llm_gateway: "LLMGateway") -> "ExecutionEngine":
    """An engine on the scripted model with ``browser_backend = stagehand`` stored (issue 15)."""
    import sys

    from engine.engine import ExecutionEngine
    from engine.settings_store import SettingsUpdate, update

    await update(pool, SettingsUpdate(browser_backend="stagehand"))
    return ExecutionEngine(pool, python=sys.executable, llm=llm_gateway)


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (an unreachable service)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def local_site() -> Iterator["LocalSite"]:
    from tests.helpers.web import LocalSite

    site = LocalSite()
    yield site
    site.stop()


@pytest.fixture
def engine(pool: asyncpg.Pool) -> "ExecutionEngine":
    import sys

    from engine.engine import ExecutionEngine

    return ExecutionEngine(pool, python=sys.executable)


@pytest.fixture
def api_token() -> str:
    """The bearer token the test API servers require."""
    import secrets

    return secrets.token_urlsafe(16)


@pytest.fixture
async def test_client(engine: "ExecutionEngine", pool: asyncpg.Pool, api_token: str) -> AsyncIterator["httpx.AsyncClient"]:
    """An httpx client on our real API server (uvicorn on 127.0.0.1, a free port), sending the token."""
    import httpx

    from app.api import create_api
    from app.api_server import ApiServer

    server = ApiServer(create_api(engine, pool, token=api_token), port=0)
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=120,
                                 headers={"Authorization": f"Bearer {api_token}"}) as client:
        yield client
    await server.stop()


needs_chromium = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists(),
    reason="Debian's Chromium is not installed (make setup installs it as root: apt-get install chromium)",
)


# -- agents ----------------------------------------------------------------

@pytest.fixture(scope="session")
def pynguin_runner() -> "PynguinRunner":
    """One Pynguin install (its own venv, ~11 s) for the whole session."""
    from agents.generation.search import PynguinRunner

    runner = PynguinRunner(_SANDBOX_HOME / "tools")
    asyncio.run(runner.ensure_installed())
    return runner


@pytest.fixture(scope="session")
def crosshair_runner() -> "CrossHairRunner":
    """One CrossHair install (its own venv with z3) for the whole session."""
    from agents.generation.symbolic import CrossHairRunner

    runner = CrossHairRunner(_SANDBOX_HOME / "tools")
    asyncio.run(runner.tool.ensure_installed())
    return runner


@pytest.fixture
async def agent_services(
    pool: asyncpg.Pool, redis_client: aioredis.Redis, engine: "ExecutionEngine", tmp_path: Path,
    pynguin_runner: "PynguinRunner",
) -> "Services":
    from agents.base import Services
    from agents.memory import WorkingMemory
    from agents.phase2_client import InProcessPhase2

    await redis_client.flushdb()
    return Services(pool=pool, redis=redis_client, workspace=tmp_path / "workspaces",
                    phase2=InProcessPhase2(engine), memory=WorkingMemory(pool), pynguin=pynguin_runner)


@pytest.fixture
async def agent_host(agent_services: "Services") -> AsyncIterator["AgentHost"]:
    """All six agents running in this process."""
    from agents.constants import AGENT_TYPES
    from app.agents_host import AgentHost

    host = AgentHost(agent_services, list(AGENT_TYPES))
    await host.start()
    yield host
    await host.stop(drain_timeout_s=5)


@pytest.fixture
def generation(pool: asyncpg.Pool, agent_services: "Services", data_dir: Path) -> "GenerationService":
    from app.generation import GenerationService

    return GenerationService(pool, make_config(data_dir), agent_services)


@pytest.fixture
async def v2_client(engine: "ExecutionEngine", pool: asyncpg.Pool, generation: "GenerationService",
                    agent_host: "AgentHost", api_token: str) -> AsyncIterator["httpx.AsyncClient"]:
    """httpx on our real API server with generation and all six agents, sending the token."""
    import httpx

    from app.api import create_api
    from app.api_server import ApiServer

    server = ApiServer(create_api(engine, pool, generation, token=api_token), port=0)
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=120,
                                 headers={"Authorization": f"Bearer {api_token}"}) as client:
        yield client
    await server.stop()
    await generation.close()


@pytest.fixture
def memory_keyring() -> Iterator["MemoryKeyring"]:
    """An in-memory keyring in force for the test, the previous one restored after."""
    import keyring

    from tests.helpers.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
