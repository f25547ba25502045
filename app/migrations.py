"""Applies ``migrations/*.sql`` in file-name order, each exactly once.

Each file runs in one transaction together with the row that records it
(file name and SHA-256) in ``schema_migrations``, so a failure leaves
neither half-applied schema nor a false record. A file may carry its own
``BEGIN;`` / ``COMMIT;`` lines so it can also be fed to ``psql`` by hand
(the spec's Phase 3 script does); the runner drops those lines and uses
its own transaction instead.

A file changed after it was applied is refused: its schema would differ
from what the database has. A session-level advisory lock keeps two
processes from migrating at once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.paths import migrations_dir
from engine.errors import MigrationError

log = logging.getLogger(__name__)

_LOCK_KEY = 0x41495754  # "AIWT"
_TXN_LINE = re.compile(r"^\s*(BEGIN|COMMIT)\s*;\s*(--.*)?$", re.IGNORECASE | re.MULTILINE)

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    filename   TEXT PRIMARY KEY,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def body(self) -> str:
        return _TXN_LINE.sub("", self.path.read_text(encoding="utf-8"))


def discover(directory: Path | None = None) -> list[Migration]:
    folder = directory or migrations_dir()
    if not folder.is_dir():
        raise MigrationError(f"The migrations folder {folder} is missing; reinstall the app.")
    return [Migration(p) for p in sorted(folder.glob("*.sql"))]


async def migrate(conn: asyncpg.Connection, directory: Path | None = None) -> list[str]:
    """Apply what is new; return the names applied (empty when up to date)."""
    migrations = discover(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_LEDGER)
        done = {
            r["filename"]: r["checksum"]
            for r in await conn.fetch("SELECT filename, checksum FROM schema_migrations")
        }
        applied: list[str] = []
        for migration in migrations:
            checksum = migration.checksum
            recorded = done.get(migration.name)
            if recorded == checksum:
                continue
            if recorded is not None:
                raise MigrationError(
                    f"migrations/{migration.name} was changed after it was applied to this database "
                    f"(recorded sha256 {recorded[:12]}, file now {checksum[:12]}). Restore the file "
                    "as it was and put the change in a new migration file."
                )
            await _apply(conn, migration, checksum)
            applied.append(migration.name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def _apply(conn: asyncpg.Connection, migration: Migration, checksum: str) -> None:
    log.info("applying migration %s", migration.name)
    notices: list[str] = []

    def on_notice(_conn: object, message: asyncpg.PostgresLogMessage) -> None:
        notices.append(message.message)

    conn.add_log_listener(on_notice)
    try:
        async with conn.transaction():
            await conn.execute(migration.body())
            await conn.execute(
                "INSERT INTO schema_migrations (filename, checksum) VALUES ($1, $2)",
                migration.name,
                checksum,
            )
    except asyncpg.PostgresError as exc:
        where = f" (at {exc.position})" if getattr(exc, "position", None) else ""
        raise MigrationError(
            f"migrations/{migration.name} failed{where}: {exc}. Nothing from this file was applied."
        ) from None
    finally:
        conn.remove_log_listener(on_notice)
    for notice in notices:
        log.info("%s: %s", migration.name, notice)


async def applied_migrations(conn: asyncpg.Connection) -> list[str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    return [r["filename"] for r in await conn.fetch("SELECT filename FROM schema_migrations ORDER BY filename")]
