"""The asyncpg pool and the Redis client every service shares, both surviving a server restart.

``ResilientPool`` retries a call that met a restarting PostgreSQL
(``agents/store_retry.py``: jittered back-off, for the caller's budget),
so agents, the API and the GUI services carry on through ``pg_ctl restart``
or a killed server that the supervisor brings back, instead of each
catching connection errors its own way. The Redis client gets redis-py's
own retry with jittered back-off for the same reason.

Each connection gets the pgvector codec (``vector`` columns as
``pgvector.Vector``, binary on the wire; lists and numpy arrays go in) and JSON/JSONB as Python objects, so no module decodes by hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from pgvector.asyncpg import register_vector
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from agents.store_retry import with_retry

T = TypeVar("T")


class _OneLine(logging.Filter):
    """asyncpg's pool logs each failed reconnect while PostgreSQL restarts as a WARNING with a full
    traceback, a screenful per second on a CLI user's terminal (seen in a user trial with kill -9).
    The message and the error on one line say the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            record.args = ()
            record.exc_info = None
        return True


logging.getLogger("asyncpg.pool").addFilter(_OneLine())


async def init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    # The extension is created by migrations; a pool opened before them
    # (``aiwebtest migrate`` on a bare database) simply has no vector codec.
    has_vector = await conn.fetchval("SELECT 1 FROM pg_type WHERE typname = 'vector'")
    if has_vector:
        await register_vector(conn)


class ResilientPool:
    """An asyncpg pool whose one-statement calls retry through a server restart.

    A retried statement may run twice if the server died after committing
    it but before answering; our writes are conditional (leases, ``ON
    CONFLICT``) or keyed, so a second run changes nothing. Multi-statement
    work goes through ``run()``, which retries the whole transaction.
    Everything else (``acquire``, ``close``, ``get_size`` ...) is the pool's own.

    Attributes:
        dsn: the URL it was opened with (the lease keeper opens its own connection).
    """

    def __init__(self, pool: asyncpg.Pool, dsn: str) -> None:
        self._pool = pool
        self.dsn = dsn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        return await with_retry(lambda: self._pool.execute(query, *args, timeout=timeout))

    async def executemany(self, command: str, args: Any, *, timeout: float | None = None) -> None:
        await with_retry(lambda: self._pool.executemany(command, args, timeout=timeout))

    async def fetch(self, query: str, *args: Any, timeout: float | None = None) -> list[asyncpg.Record]:
        return await with_retry(lambda: self._pool.fetch(query, *args, timeout=timeout))

    async def fetchrow(self, query: str, *args: Any, timeout: float | None = None) -> asyncpg.Record | None:
        return await with_retry(lambda: self._pool.fetchrow(query, *args, timeout=timeout))

    async def fetchval(self, query: str, *args: Any, column: int = 0, timeout: float | None = None) -> Any:
        return await with_retry(lambda: self._pool.fetchval(query, *args, column=column, timeout=timeout))

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``work(conn)`` inside one transaction, retried as a whole after a transient error."""
        async def once() -> T:
            async with self._pool.acquire() as conn, conn.transaction():
                return await work(conn)
        return await with_retry(once)


def create_redis(url: str) -> aioredis.Redis:
    """The shared Redis client: commands retried with jittered back-off while the server is away (about 20 s)."""
    return aioredis.from_url(
        url, health_check_interval=10, socket_connect_timeout=5,
        retry=Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.05), 25),
        retry_on_error=[redis_errors.ConnectionError, redis_errors.TimeoutError, ConnectionError, OSError],
    )


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> ResilientPool:
    # UTC sessions: the spec's TIMESTAMP (no zone) columns default to
    # CURRENT_TIMESTAMP, which is in the session's zone.
    # max_inactive_connection_lifetime=0: asyncpg otherwise arms a 300 s call_later on
    # every release and cancels the previous one. qasync keeps each cancelled handle, and
    # its Qt timer, until it would have fired: the soak (bench/soak.py --trace) showed
    # ~13,000 live timers after 5 minutes, the largest growth in the process and more
    # work for Qt's timer list on every loop turn. Idle connections stay open instead
    # (at most max_size of them).
    # max_cached_statement_lifetime=0 for the same reason: each cached statement armed a 300 s call_later,
    # and an entry, its handle and its context made a cycle a full collection had to free once the entry
    # went (89 of each in one minute of the soak: bench/soak.py --gc-census). The cache stays an LRU of
    # statement_cache_size (100) statements per connection.
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=init_connection, command_timeout=60,
        server_settings={"timezone": "UTC"}, max_inactive_connection_lifetime=0, max_cached_statement_lifetime=0,
    )
    assert pool is not None
    return ResilientPool(pool, url)
