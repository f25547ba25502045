"""The asyncpg pool every service shares.

Each connection gets the pgvector codec (``vector`` columns as
``pgvector.Vector``, binary on the wire; lists and numpy arrays go in) and JSON/JSONB as Python objects, so no module decodes by hand.
"""

from __future__ import annotations

import json

import asyncpg
from pgvector.asyncpg import register_vector


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


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    # UTC sessions: the spec's TIMESTAMP (no zone) columns default to
    # CURRENT_TIMESTAMP, which is in the session's zone.
    # max_inactive_connection_lifetime=0: asyncpg otherwise arms a 300 s call_later on
    # every release and cancels the previous one. qasync keeps each cancelled handle, and
    # its Qt timer, until it would have fired: the soak (bench/soak.py --trace) showed
    # ~13,000 live timers after 5 minutes, the largest growth in the process and more
    # work for Qt's timer list on every loop turn. Idle connections stay open instead
    # (at most max_size of them).
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=init_connection, command_timeout=60,
        server_settings={"timezone": "UTC"}, max_inactive_connection_lifetime=0,
    )
    assert pool is not None
    return pool
