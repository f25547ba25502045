"""Which path a generation request takes: Phase 2, agents, or both (shadow).

The decision reads ``system_config`` on every request (one indexed read,
about a millisecond), so turning agents off reaches every process for the
very next request: there is no cache to expire.

Percentage mode hashes a stable key (the conversation id, else the
repository) with the rollout salt into 100 buckets; a request goes to the
agents when its bucket is below the percentage. Raising the percentage
therefore only ever adds keys: nobody moves back to Phase 2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg

from app import system_config
from app.config import Config

# Where the rollout meant a request to go, whatever happened to it: the agents in full mode and below the
# percentage. One that went to Phase 2 all the same fell back (the flag or the kill switch was off): the
# spec's "Phase 2 fallback rate" counts those, not the share Phase 2 serves by design in percentage mode.
# A caller's explicit choice (--agents, use_agents) was no rollout's assignment: "explicit".
ASSIGNED_SQL = ("CASE WHEN rollout_mode = 'full' OR (rollout_mode = 'percentage' AND bucket < rollout_percentage) "
                "THEN 'agents' WHEN rollout_mode IN ('shadow', 'explicit') THEN rollout_mode ELSE 'phase2' END")


@dataclass(frozen=True)
class Route:
    route: str  # phase2 | agents | shadow
    mode: str
    percentage: int
    bucket: int
    key: str
    reason: str


def bucket_of(key: str, salt: str) -> int:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


async def decide(pool: asyncpg.Pool, config: Config, key: str) -> Route:
    values = await system_config.get_all(pool)
    switch = await system_config.agents_switch(pool, config)
    mode = values.get("rollout_mode", "off")
    percentage = int(values.get("rollout_percentage", "0"))
    bucket = bucket_of(key, values.get("rollout_salt", ""))
    if not switch.enabled:
        return Route("phase2", mode, percentage, bucket, key, f"agents off: {switch.reason}")
    if mode == "full":
        return Route("agents", mode, percentage, bucket, key, "rollout mode full")
    if mode == "shadow":
        return Route("shadow", mode, percentage, bucket, key, "shadow: Phase 2 answers, agents get a copy")
    if mode == "percentage":
        if bucket < percentage:
            return Route("agents", mode, percentage, bucket, key, f"bucket {bucket} < {percentage}%")
        return Route("phase2", mode, percentage, bucket, key, f"bucket {bucket} >= {percentage}%")
    return Route("phase2", mode, percentage, bucket, key, "rollout mode off")
