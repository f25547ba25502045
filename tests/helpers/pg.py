"""Helpers for tests that need databases and server processes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def server_processes(data_dir: Path) -> list[psutil.Process]:
    """Every postgres or redis-server process whose command line names ``data_dir``.

    Postgres children (checkpointer, walwriter…) do not carry the path, so
    this counts postmasters, which is what "two servers on one data dir"
    would show up as.
    """
    found = []
    needle = str(data_dir)
    for proc in psutil.process_iter(["cmdline", "name"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
        except psutil.Error:
            continue
        if needle in cmd and ("postgres" in cmd or "redis-server" in cmd) and "services_watchdog" not in cmd \
                and "services watchdog" not in cmd:  # the frozen build's watchdog
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def watchdog_processes(data_dir: Path) -> list[psutil.Process]:
    """The services watchdog(s) watching ``data_dir``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if "services_watchdog" in cmd and str(data_dir) in cmd and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def without_password(url: str) -> str:
    """``url`` with its password left out (for "the server refuses a stranger" tests)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0] if len(netloc) == 2 else ""
    host = netloc[-1]
    return urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, parts.query, parts.fragment))


async def migrate_database(url: str) -> None:
    """Apply our migrations to the database at ``url``."""
    import asyncpg

    from app.migrations import migrate

    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
