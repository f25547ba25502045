"""The message bus: Redis Streams with consumer groups.

A message carries only a task id; the task itself lives in Postgres.
Delivery is at least once: a message is acknowledged only after the
task's outcome is durable in Postgres, and a message whose consumer died
is claimed by another. Exactly-once *completion* comes from Postgres
(``agents/tasks.py``), not from Redis.

Reclaiming: ``XAUTOCLAIM`` takes every idle entry whatever its owner, so a
long task whose owner is alive and busy would run twice. We therefore list
idle entries with ``XPENDING ... IDLE`` and ``XCLAIM`` only those whose
owner's heartbeat key has expired. The idle time is still the first
filter, as with XAUTOCLAIM.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    stream: str
    id: str
    task_id: str


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Bus:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def ensure_group(self, stream: str, group: str) -> None:
        try:
            await self.redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def send(self, stream: str, task_id: str) -> str:
        return _s(await self.redis.xadd(stream, {"task_id": task_id}))

    async def read(
        self, streams: list[str], group: str, consumer: str, count: int, block_ms: int
    ) -> list[Message]:
        if count <= 0:
            return []
        reply = await self.redis.xreadgroup(
            group, consumer, {s: ">" for s in streams}, count=count, block=block_ms
        )
        out = []
        for stream, entries in reply or []:
            for msg_id, fields in entries:
                task_id = fields.get(b"task_id") or fields.get("task_id")
                if task_id is not None:
                    out.append(Message(_s(stream), _s(msg_id), _s(task_id)))
        return out

    async def ack(self, message: Message, group: str) -> None:
        await self.redis.xack(message.stream, group, message.id)

    async def reclaim(
        self,
        stream: str,
        group: str,
        consumer: str,
        *,
        min_idle_ms: int,
        owner_alive: Callable[[str], Awaitable[bool]],
        count: int = 50,
    ) -> list[Message]:
        """Claim idle messages whose consumer is gone, to look at their tasks again.

        A claimed message is a wake-up, not a licence: the task's lease in
        PostgreSQL decides whether it runs. How often a task may run is
        counted per task there, so nothing is dead-lettered here.
        """
        pending = await self.redis.xpending_range(
            stream, group, min="-", max="+", count=count, idle=min_idle_ms
        )
        ids = [_s(e["message_id"]) for e in pending
               if _s(e["consumer"]) != consumer and not await owner_alive(_s(e["consumer"]))]
        if not ids:
            return []
        claimed = await self.redis.xclaim(stream, group, consumer, min_idle_ms, ids)
        out = []
        for msg_id, fields in claimed:
            if fields is None:  # trimmed away
                await self.redis.xack(stream, group, msg_id)
                continue
            task_id = _s(fields.get(b"task_id") or fields.get("task_id") or b"")
            out.append(Message(stream, _s(msg_id), task_id))
        return out

    async def trim(self, stream: str) -> int:
        """Drop entries every group has acknowledged; never an unacked one.

        The cut is the oldest id still pending in any group, or not yet
        delivered to some group; everything before it is safe to drop.
        """
        try:
            groups = await self.redis.xinfo_groups(stream)
        except ResponseError:
            return 0
        if not groups:
            return 0
        cuts: list[str] = []
        for group in groups:
            name = _s(group["name"])
            summary = await self.redis.xpending(stream, name)
            if summary and summary.get("pending"):
                cuts.append(_s(summary["min"]))
            cuts.append(_next_id(_s(group["last-delivered-id"])))
        cut = min(cuts, key=_id_key)
        return int(await self.redis.xtrim(stream, minid=cut, approximate=False))


def _id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def _next_id(stream_id: str) -> str:
    ms, seq = _id_key(stream_id)
    return f"{ms}-{seq + 1}"
