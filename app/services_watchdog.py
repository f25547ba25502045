"""Stops the embedded servers once no process uses them, even after kill -9 or an abort.

The servers daemonize so several processes (a GUI and a worker) can share
them, and the last one to leave stops them. A process that dies without
leaving (SIGKILL, abort, power to the terminal cut) would leave them
running for ever; this watchdog, one per data dir, notices within
``POLL_S`` that every registered user is gone and stops them.

Started detached by ``ServiceManager.start()``; it holds ``run/watchdog.lock``
while it lives, so a second one exits at once. It decides under the same
``run/services.lock`` that starting and stopping take, so a process that is
just starting the servers is never raced.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import time
from pathlib import Path

from app.embedded_postgres import EmbeddedPostgres
from app.embedded_redis import EmbeddedRedis
from app.service_users import live_users

POLL_S = 0.5


def watch(data_dir: Path, *, embeds_postgres: bool, embeds_redis: bool) -> int:
    run = data_dir / "run"
    guard = os.open(run / "watchdog.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another watchdog watches this data dir
    while True:
        time.sleep(POLL_S)
        if live_users(run / "users"):
            continue
        lock = os.open(run / "services.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if live_users(run / "users"):
                continue  # someone registered while we waited for the lock
            asyncio.run(_stop(data_dir, embeds_postgres, embeds_redis))
            # Let go of our own lock before the services lock, so a process
            # starting right after us can start a watchdog of its own.
            fcntl.flock(guard, fcntl.LOCK_UN)
            return 0
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)


async def _stop(data_dir: Path, embeds_postgres: bool, embeds_redis: bool) -> None:
    if embeds_redis:
        await EmbeddedRedis(data_dir).stop()
    if embeds_postgres:
        await EmbeddedPostgres(data_dir).stop()


def main(argv: list[str]) -> int:
    """``python -m app.services_watchdog DATA_DIR postgres,redis``: detach, then watch."""
    data_dir, which = Path(argv[0]), set(argv[1].split(","))
    if os.fork() > 0:
        return 0  # the starter waits only for this first process
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    return watch(data_dir, embeds_postgres="postgres" in which, embeds_redis="redis" in which)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
