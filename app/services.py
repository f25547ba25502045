"""PostgreSQL and Redis for the app: embedded ones we run, or shared ones.

With ``POSTGRES_URL`` / ``REDIS_STREAMS_URL`` set, those servers are used
and nothing is started. Otherwise the embedded servers under the data dir
are started, or adopted when already running, for example by another
``aiwebtest`` process (a GUI and a worker) or after a crash.

Several processes may share one data dir. Each registers itself in
``DATA/run/users/<pid>.<token>``; the last one to leave stops the servers. A file
lock around start and stop makes sure two processes starting at once never
start two servers on one data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as aioredis

from app.config import Config, redact_url
from app.embedded_postgres import EmbeddedPostgres
from app.embedded_redis import EmbeddedRedis
from app.proc import run_command
from app.service_users import live_users, process_started_at
from engine.errors import ServiceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceStatus:
    """One line of ``aiwebtest services status``."""

    name: str  # "postgres" | "redis"
    mode: str  # "embedded" | "shared"
    running: bool
    where: str
    pid: int | None = None

    def line(self) -> str:
        state = "running" if self.running else "stopped"
        if self.mode == "shared":
            state = "reachable" if self.running else "unreachable"
        pid = f"pid {self.pid}" if self.pid else "-"
        return f"{self.name:<9}{self.mode:<10}{state:<12}{pid:<12}{self.where}"


@dataclass(frozen=True)
class Endpoints:
    postgres_url: str
    redis_url: str
    postgres_mode: str
    redis_mode: str

    @property
    def postgres_where(self) -> str:
        return _where(self.postgres_url)

    @property
    def redis_where(self) -> str:
        return _where(self.redis_url)


def _where(url: str) -> str:
    """A short human form of a server URL: a socket path or host:port, never a password."""
    if url.startswith("unix://"):
        return urlsplit(url).path
    if "?host=/" in url:
        return url.split("?host=", 1)[1]
    return redact_url(url)


def _source_root() -> str:
    """The folder holding the ``app`` package, so ``-m app.services_watchdog`` imports it from any cwd."""
    return str(Path(__file__).resolve().parents[1])


class ServiceManager:
    """Starts, adopts, shares and stops the two servers.

    Construction does no I/O; ``start()`` and ``stop()`` do.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.data_dir = config.data_dir
        self.postgres = EmbeddedPostgres(self.data_dir)
        self.redis = EmbeddedRedis(self.data_dir)
        self.endpoints: Endpoints | None = None
        self._registered = False
        # pid plus a token: two managers in one process are two users.
        self._user_entry = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"

    @property
    def embeds_postgres(self) -> bool:
        return self.config.postgres_url is None

    @property
    def embeds_redis(self) -> bool:
        return self.config.redis_streams_url is None

    @property
    def _run_dir(self) -> Path:
        return self.data_dir / "run"

    async def start(self) -> Endpoints:
        pg_url = self.config.postgres_url
        redis_url = self.config.redis_streams_url
        if self.embeds_postgres or self.embeds_redis:
            async with self._locked():
                self._register()
                if self.embeds_postgres:
                    pg_url = (await self.postgres.start()).url()
                if self.embeds_redis:
                    redis_url = (await self.redis.start()).url
                await self._start_watchdog()
        assert pg_url is not None and redis_url is not None
        if not self.embeds_postgres:
            await _check_postgres(pg_url)
        if not self.embeds_redis:
            await _check_redis(redis_url)
        self.endpoints = Endpoints(
            postgres_url=pg_url,
            redis_url=redis_url,
            postgres_mode="embedded" if self.embeds_postgres else "shared",
            redis_mode="embedded" if self.embeds_redis else "shared",
        )
        return self.endpoints

    async def stop(self) -> None:
        """Leave; stop the embedded servers if no other process still uses them."""
        if not self._registered:
            return
        async with self._locked():
            others = self._unregister()
            if others:
                log.info("leaving servers running for pids %s", others)
            else:
                if self.embeds_redis:
                    await self.redis.stop()
                if self.embeds_postgres:
                    await self.postgres.stop()
        self.endpoints = None

    async def restart(self, name: str) -> None:
        """Start an embedded server that died (``app/supervisor.py``), or adopt the one another process
        sharing this data dir started first: both happen under the services lock."""
        async with self._locked():
            if name == "postgres":
                await self.postgres.start()
            elif name == "redis":
                await self.redis.start()
            else:
                raise ValueError(f"no embedded server called {name!r}")

    def connect_hints(self) -> list[str]:
        """Shell lines to reach the embedded servers by hand (passwords read from their files)."""
        from app.embedded_postgres import DATABASE, SUPERUSER, bin_dir
        from app.embedded_redis import server_binary

        hints = []
        if self.embeds_postgres:
            hints.append(f'PGPASSWORD="$(cat {self.postgres.password_file})" {bin_dir() / "psql"} '
                         f'-h {self.postgres.socket_dir()} -U {SUPERUSER} {DATABASE}')
        if self.embeds_redis:
            hints.append(f'REDISCLI_AUTH="$(cat {self.redis.password_file})" '
                         f'{server_binary().with_name("redis-cli")} -s {self.redis.socket_path()}')
        return hints

    async def status(self) -> list[ServiceStatus]:
        """What runs where, without starting anything."""
        rows: list[ServiceStatus] = []
        if self.embeds_postgres:
            pg = self.postgres.running_info()
            where = f"socket {pg.socket_dir}" if pg else f"data {self.postgres.pgdata}"
            rows.append(ServiceStatus("postgres", "embedded", pg is not None, where, pg.pid if pg else None))
        else:
            url = self.config.postgres_url or ""
            ok = await _reachable(_check_postgres(url))
            rows.append(ServiceStatus("postgres", "shared", ok, redact_url(url)))
        if self.embeds_redis:
            rd = self.redis.running_info()
            where = f"socket {rd.socket_path}" if rd else f"data {self.redis.redis_dir}"
            rows.append(ServiceStatus("redis", "embedded", rd is not None, where, rd.pid if rd else None))
        else:
            url = self.config.redis_streams_url or ""
            ok = await _reachable(_check_redis(url))
            rows.append(ServiceStatus("redis", "shared", ok, redact_url(url)))
        return rows

    # -- sharing between processes ------------------------------------------

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        self._run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._run_dir / "services.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # flock blocks; wait for it in a thread so the loop stays free.
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _users_dir(self) -> Path:
        return self._run_dir / "users"

    def _register(self) -> None:
        users = self._users_dir()
        users.mkdir(parents=True, exist_ok=True)
        # The entry carries this process's start time: with pid_max at 32,768 (seen on CI) a pid is
        # reused within one test suite, and a stranger on a dead user's pid kept a watchdog waiting.
        (users / self._user_entry).write_text(str(process_started_at(os.getpid())))
        self._registered = True

    def _unregister(self) -> list[int]:
        """Remove our entry and dead ones; return the pids still using the servers."""
        users = self._users_dir()
        (users / self._user_entry).unlink(missing_ok=True)
        self._registered = False
        return live_users(users)

    async def _start_watchdog(self) -> None:
        """The detached process that stops the servers if every user dies (app/services_watchdog.py).

        Called under the services lock; a live watchdog holds ``watchdog.lock``
        and leaves only under the services lock too, so this test cannot race it.
        """
        if _watchdog_running(self._run_dir):
            return
        which = ",".join(name for name, embedded in (("postgres", self.embeds_postgres),
                                                     ("redis", self.embeds_redis)) if embedded)
        if getattr(sys, "frozen", False):
            argv = [sys.executable, "services", "watchdog", str(self.data_dir), which]
        else:
            argv = [sys.executable, "-m", "app.services_watchdog", str(self.data_dir), which]
        # The first process forks the watchdog off and exits at once.
        path = os.pathsep.join(filter(None, [_source_root(), os.environ.get("PYTHONPATH")]))
        result = await run_command(*argv, timeout_s=30, env={**os.environ, "PYTHONPATH": path})
        if result.returncode != 0:
            log.warning("the services watchdog did not start: %s", result.stderr.strip()[-500:])


def _watchdog_running(run_dir: Path) -> bool:
    fd = os.open(run_dir / "watchdog.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops our lock, if we got it
    return False


async def _check_postgres(url: str) -> None:
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise ServiceError(
            f"Cannot reach PostgreSQL at POSTGRES_URL={redact_url(url)}: {exc}. "
            "Check the URL and that the server runs, or unset POSTGRES_URL to use the embedded server."
        ) from None
    await conn.close()


async def _check_redis(url: str) -> None:
    client = aioredis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        raise ServiceError(
            f"Cannot reach Redis at REDIS_STREAMS_URL={redact_url(url)}: {exc}. "
            "Check the URL and that the server runs, or unset REDIS_STREAMS_URL to use the embedded server."
        ) from None
    finally:
        await client.aclose()


async def _reachable(check) -> bool:
    try:
        await check
        return True
    except ServiceError:
        return False
