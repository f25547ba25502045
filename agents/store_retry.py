"""Which PostgreSQL and Redis errors mean "the server is restarting", and how long to wait for it.

One policy for every store call (tenacity, jittered exponential back-off):
a connection refused, a connection cut by ``pg_ctl restart -m fast``
(``AdminShutdownError``), "the database system is starting up"
(``CannotConnectNowError``), a Redis socket reset. Anything else (a
constraint, a syntax error, a bad argument) is not retried.

How long to keep trying depends on who waits: an agent finishing a task
waits out a restart (``AGENT_BUDGET_S``); an API request answers 503 with
``Retry-After`` soon instead (``API_BUDGET_S``). The caller sets its
budget with ``retry_budget()``; it is a context variable, so it follows
the request or the task through every await without being passed along.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import asyncpg
import redis.exceptions as redis_errors
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_before_delay,
    wait_random_exponential,
)

T = TypeVar("T")

AGENT_BUDGET_S = 60.0
API_BUDGET_S = 3.0

_budget_s: contextvars.ContextVar[float] = contextvars.ContextVar("store_retry_budget_s", default=AGENT_BUDGET_S)

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, socket file gone (ConnectionError and TimeoutError are OSErrors)
    asyncpg.PostgresConnectionError,  # SQLSTATE 08: includes ConnectionDoesNotExistError
    asyncpg.CannotConnectNowError,  # 57P03: starting up / shutting down
    asyncpg.exceptions.AdminShutdownError,  # 57P01: pg_ctl stop/restart -m fast
    asyncpg.exceptions.CrashShutdownError,  # 57P02: another backend crashed
    asyncpg.exceptions.TooManyConnectionsError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,  # Redis replaying its append-only file after a restart
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT_TYPES):
        return True
    # A connection cut mid-query can leave asyncpg's protocol in a state its pool's reset trips on
    # ("cannot switch to state 15; another operation (2) is in progress"; seen in the soak with faults).
    if isinstance(exc, asyncpg.exceptions.InternalClientError) and "another operation" in str(exc):
        return True
    # asyncpg raises a bare InterfaceError for a connection that closed under it.
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)


@contextlib.contextmanager
def retry_budget(seconds: float) -> Iterator[None]:
    """Within this block (and the tasks it starts), store calls retry for at most ``seconds``."""
    token = _budget_s.set(seconds)
    try:
        yield
    finally:
        _budget_s.reset(token)


def set_retry_budget(seconds: float) -> None:
    """For a context made to start a task in (``contextvars.copy_context().run(set_retry_budget, s)``)."""
    _budget_s.set(seconds)


def current_budget_s() -> float:
    return _budget_s.get()


async def with_retry(make: Callable[[], Awaitable[T]], *, budget_s: float | None = None) -> T:
    """Await ``make()``, again after a transient store error, for up to the budget; then re-raise.

    The first attempt runs bare: tenacity's state for one call is a reference cycle (its retry state
    points back at it, with closures and a thread-local), and app/db.py sends every query through
    here. Built per call, they were what the soak's full collections found unreachable, 20-40 a
    minute (``bench/soak.py --gc-census``), each freed with the loop held; most calls never fail.
    """
    budget = current_budget_s() if budget_s is None else budget_s
    started = time.monotonic()
    try:
        return await make()
    except Exception as exc:
        if not is_transient(exc) or time.monotonic() - started >= budget:
            raise
    # The back-off tenacity would have waited before its second attempt (the first of the loop below).
    await asyncio.sleep(random.uniform(0, 0.2))
    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_random_exponential(multiplier=0.1, max=2.0),
        # stop_before_delay: no attempt starts after the budget, back-off included; stop_after_delay let
        # a 2 s budget take 3.1 s (a last wait of up to 2 s went past it: tests/agents/test_run_log.py).
        stop=stop_before_delay(max(0.0, budget - (time.monotonic() - started))),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await make()
    raise AssertionError("unreachable: tenacity re-raises the last error")
