"""Liveness of PostgreSQL and Redis, and whether repository code can be isolated, as the status bar,
the Generate panel and ``--smoke`` see it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import asyncpg
import redis.asyncio as aioredis

from agents.periodic import Periodic
from agents.store_retry import retry_budget
from engine import isolation
from engine.isolation import Isolation


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    up: bool
    mode: str  # embedded | shared
    where: str
    latency_ms: float | None = None
    error: str | None = None
    supervision: str | None = None  # embedded only: "up", "restarting (attempt 2)", "down: ..." (app/supervisor.py)

    def as_json(self) -> dict[str, object]:
        return {"up": self.up, "mode": self.mode, "where": self.where, "latency_ms": self.latency_ms,
                "error": self.error, "supervision": self.supervision}


@dataclass(frozen=True)
class HealthReport:
    postgres: ServiceHealth
    redis: ServiceHealth
    sandbox: Isolation | None = None
    allow_unisolated: bool = False  # execution_settings.allow_unisolated, shown while on
    vectors: ServiceHealth | None = None  # Qdrant, when working memory uses it (not in all_up: work goes on)

    @property
    def all_up(self) -> bool:
        return self.postgres.up and self.redis.up


async def _timed(name: str, mode: str, where: str, probe: Awaitable[object], timeout_s: float) -> ServiceHealth:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe, timeout_s)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError,
            aioredis.RedisError, TimeoutError) as exc:
        # InternalClientError: asyncpg's protocol after a connection cut mid-query (a restart).
        return ServiceHealth(name, False, mode, where, error=str(exc) or type(exc).__name__)
    return ServiceHealth(name, True, mode, where, latency_ms=(time.perf_counter() - start) * 1000)


async def check(
    pool: asyncpg.Pool,
    redis_client: aioredis.Redis,
    *,
    postgres_where: tuple[str, str],
    redis_where: tuple[str, str],
    timeout_s: float = 2.0,
    supervision: dict[str, str] | None = None,
    vectors: tuple[str, Awaitable[object]] | None = None,
) -> HealthReport:
    """``vectors``: where Qdrant is and a probe of it, when working memory uses one."""
    allowed: list[bool] = []

    async def postgres_probe() -> None:
        with retry_budget(0):  # a probe reports the store as it is now; it does not wait for it
            allowed.append(bool(await pool.fetchval(
                "SELECT allow_unisolated FROM execution_settings WHERE id = 1")))

    async def no_vectors() -> None:
        return None

    pg, rd, sandbox, vec = await asyncio.gather(
        _timed("postgres", *postgres_where, postgres_probe(), timeout_s),
        _timed("redis", *redis_where, redis_client.ping(), timeout_s),
        _isolation(),
        probe_vectors(*vectors, timeout_s) if vectors is not None else no_vectors(),
    )
    if supervision:
        pg = replace(pg, supervision=supervision.get("postgres"))
        rd = replace(rd, supervision=supervision.get("redis"))
    return HealthReport(pg, rd, sandbox, allow_unisolated=bool(allowed and allowed[0]), vectors=vec)


async def _isolation() -> isolation.Isolation:
    """The sandbox's answer from memory once known (engine/isolation.py): no thread per health call."""
    return isolation.known() or await asyncio.to_thread(isolation.probe)


async def probe_vectors(where: str, probe: Awaitable[object], timeout_s: float) -> ServiceHealth:
    """Qdrant's client raises its own errors (and httpx's): any failure is "did not answer"."""
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe, timeout_s)
    except Exception as exc:  # noqa: BLE001 - a probe reports; it never raises
        return ServiceHealth("vectors", False, "qdrant", where, error=str(exc).splitlines()[0][:200] if str(exc)
                             else type(exc).__name__)
    return ServiceHealth("vectors", True, "qdrant", where, latency_ms=(time.perf_counter() - start) * 1000)


class HealthMonitor:
    """Polls ``probe`` every ``interval_s`` and hands each report to ``on_report``.

    Plain callback, no Qt: the UI adapts it to a signal. ``stop()`` ends
    the loop after the current probe.
    """

    def __init__(
        self,
        probe: Callable[[], Awaitable[HealthReport]],
        on_report: Callable[[HealthReport], None],
        interval_s: float = 2.0,
    ) -> None:
        self._probe = probe
        self._on_report = on_report
        self.interval_s = interval_s
        self._loop = Periodic("health-monitor", self._report, interval_s, survive=())

    async def _report(self) -> None:
        self._on_report(await self._probe())

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
