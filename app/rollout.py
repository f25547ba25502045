"""The rollout as one state: where new requests go and why, changes with an audit trail, rollback.

The Rollout panel used to show the flag, the mode and the percentage side
by side, so it said "Agents off … mode full, 51 %" and "mode off, 51 %"
(issue 14). ``RolloutState.where`` is one sentence that combines them the
way the router does (``app/router.py``): the kill switch, then the flag,
then the mode, and the percentage only where it counts.

Every change goes through ``apply`` or ``rollback``: it writes the values,
then a row per changed setting in ``rollout_audit`` with who made it and how
many live processes acknowledged it (``app/config_watch.py``).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from app import system_config
from app.alerts import evaluate as evaluate_alerts
from app.config import Config
from app.config_watch import propagation
from app.db import ResilientPool

# Named by what they do; the spec's sprints are the tooltips.
PRESETS: list[tuple[str, str, int, str]] = [
    ("Shadow", "shadow", 0, "Sprint 7: agents get a copy of each request, Phase 2 answers"),
    ("5 %", "percentage", 5, "Sprint 8: alpha, internal users"),
    ("25 %", "percentage", 25, "Sprint 9: beta"),
    ("50 %", "percentage", 50, "Sprint 10: expanded rollout"),
    ("90 %", "percentage", 90, "Sprint 11: majority; Phase 2 as fallback"),
    ("100 %", "full", 100, "Sprint 12: full migration"),
]


@dataclass(frozen=True)
class RolloutState:
    agents_enabled: bool  # the flag and the kill switch together
    flag: bool  # system_config.agents_enabled alone
    killed: bool  # AGENTS_ENABLED=false in this process's environment
    mode: str
    percentage: int

    @property
    def where(self) -> str:
        """Where new requests go, and why, in one sentence."""
        if self.killed:
            return ("New requests go to Phase 2: AGENTS_ENABLED=false in this process's environment (kill "
                    "switch) overrides every setting here.")
        if not self.flag:
            then = {"off": "mode off keeps them on Phase 2",
                    "shadow": "shadow mode will then send the agents a copy of each",
                    "percentage": f"{self.percentage} % will then go to the agents",
                    "full": "all will then go to the agents"}[self.mode]
            return f"New requests go to Phase 2: the agents are switched off. Once switched on, {then}."
        return {
            "off": "New requests go to Phase 2: rollout mode off.",
            "shadow": "Phase 2 answers every new request; the agents get a copy to compare (shadow).",
            "percentage": f"{self.percentage} % of new requests go to the agents (sticky per repository or "
                          f"conversation), {100 - self.percentage} % to Phase 2.",
            "full": "Every new request goes to the agents (full).",
        }[self.mode]

    @property
    def slider_live(self) -> bool:
        """The percentage only decides anything in percentage mode."""
        return self.mode == "percentage"


@dataclass(frozen=True)
class Change:
    setting: str
    old: str | None
    new: str

    def describe(self) -> str:
        return f"{self.setting}: {self.old if self.old is not None else '(unset)'} → {self.new}"


def actor(front_end: str) -> str:
    """Who is changing it: user@host, pid and front end."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()} (pid {os.getpid()}, {front_end})"


class RolloutService:
    """Owns rollout state, presets, changes, the audit trail and rollback (house style 15)."""

    def __init__(self, pool: ResilientPool, redis: Any, config: Config, *, front_end: str = "gui",
                 alert_monitor: Any | None = None) -> None:
        """``alert_monitor``: the background ``AlertMonitor`` whose latest evaluation ``alerts`` shows."""
        self.pool = pool
        self.redis = redis
        self.config = config
        self.front_end = front_end
        self.alert_monitor = alert_monitor

    async def alerts(self) -> list[Any]:
        """The background monitor's latest evaluation; evaluated now if it has none yet."""
        if self.alert_monitor is not None and self.alert_monitor.latest:
            return self.alert_monitor.latest
        return await evaluate_alerts(self.pool)

    async def state(self) -> RolloutState:
        values = await system_config.get_all(self.pool)
        flag = values.get("agents_enabled", "false") == "true"
        killed = self.config.agents_killed
        return RolloutState(flag and not killed, flag, killed, values.get("rollout_mode", "off"),
                            int(values.get("rollout_percentage", 0)))

    async def changes(self, mode: str, percentage: int, enable_agents: bool | None = None) -> list[Change]:
        """What ``apply`` would change (for the confirmation), validated: nothing is written."""
        values = await system_config.get_all(self.pool)
        wanted = {"rollout_mode": mode, "rollout_percentage": str(percentage)}
        if enable_agents is not None:
            wanted["agents_enabled"] = "true" if enable_agents else "false"
        out = []
        for key, value in wanted.items():
            normalised = system_config.validate(key, value)
            if values.get(key) != normalised:
                out.append(Change(key, values.get(key), normalised))
        return out

    async def apply(self, mode: str, percentage: int, enable_agents: bool | None = None) -> dict[str, Any]:
        """Write the changes, record them with who and how far they reached; returns the report."""
        changes = await self.changes(mode, percentage, enable_agents)
        return await self._write(changes)

    async def rollback(self, wait_s: float = 5.0) -> dict[str, Any]:
        """Agents off now; then wait until every live process has seen it."""
        changes = [c for c in [Change("agents_enabled", await system_config.get(self.pool, "agents_enabled"),
                                      "false")] if c.old != c.new] or [Change("agents_enabled", "false", "false")]
        return await self._write(changes, wait_s=wait_s)

    async def _write(self, changes: list[Change], wait_s: float = 2.0) -> dict[str, Any]:
        if not changes:
            return {"changes": [], "processes": 0, "reached": 0, "slowest_s": None}
        changed_at = time.time()
        for change in changes:
            await system_config.set_value(self.pool, change.setting, change.new)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        key = changes[-1].setting
        while True:
            state = await propagation(self.redis, key, changed_at)
            if state.complete or loop.time() > deadline:
                break
            await asyncio.sleep(0.02)
        ack = {"processes": state.processes, "reached": state.reached, "slowest_s": state.slowest_s}
        who = actor(self.front_end)
        await self.pool.executemany(
            "INSERT INTO rollout_audit (setting, old_value, new_value, actor, acknowledged) VALUES ($1, $2, $3, $4, $5)",
            [(c.setting, c.old, c.new, who, ack) for c in changes])
        return {"changes": [c.describe() for c in changes], **ack}

    async def audit(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT changed_at, setting, old_value, new_value, actor, acknowledged FROM rollout_audit "
            "ORDER BY changed_at DESC, id DESC LIMIT $1", limit)
        return [dict(r) for r in rows]

    async def traffic_split(self, hours: int = 24) -> list[tuple[float, int, int, int]]:
        """Requests per minute by route: (epoch, phase2, agents, shadow)."""
        rows = await self.pool.fetch(
            "SELECT extract(epoch FROM date_trunc('minute', created_at)) AS t, "
            "count(*) FILTER (WHERE route = 'phase2') AS p2, count(*) FILTER (WHERE route = 'agents') AS ag, "
            "count(*) FILTER (WHERE route = 'shadow') AS sh FROM generation_requests "
            "WHERE created_at > now() - make_interval(hours => $1) GROUP BY 1 ORDER BY 1", hours)
        return [(float(r["t"]), r["p2"], r["ag"], r["sh"]) for r in rows]
