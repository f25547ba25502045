"""The spec's key-metric alerts, evaluated in the background and told to whoever listens.

Before, alerts were computed only when the Rollout panel refreshed, so an
alert fired unseen unless that panel was open (issue 13). ``AlertMonitor``
evaluates them every ``interval_s`` on the app's loop (the queries are
awaited, nothing blocks), keeps the latest states for the panels, logs each
change of state, and calls its listeners with what changed: the GUI turns
that into a badge on the alert's panel and a desktop notification.

The figures are the last 24 hours read from PostgreSQL, so every process
reports the same; Prometheus users get the same thresholds as rules over
``/metrics`` (``monitoring/alerts/phase3_integration.yaml``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from agents import registry
from agents.periodic import Periodic
from app.db import ResilientPool
from app.outcome import FINISHED_SQL
from app.router import ASSIGNED_SQL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRule:
    """One row of the spec's key-metrics table, and the panel where a person acts on it."""

    name: str
    target: str
    op: str  # "<" fires below the threshold, ">" above
    threshold: float
    unit: str
    panel: str
    metric: str  # the gauge on /metrics that carries its value

    def fires(self, value: float) -> bool:
        return value < self.threshold if self.op == "<" else value > self.threshold

    def describe(self, value: float) -> str:
        shown = {"ratio": f"{value:.1%}", "s": f"{value:.1f} s", "tokens": f"{value:,.0f}",
                 "usd": f"${value:,.2f}"}[self.unit]
        limit = {"ratio": f"{self.threshold:.0%}", "s": f"{self.threshold:.0f} s", "tokens": f"{self.threshold:,.0f}",
                 "usd": f"${self.threshold:,.0f}"}[self.unit]
        return f"{self.name} is {shown} (alert {'below' if self.op == '<' else 'above'} {limit}; target {self.target})"


RULES: tuple[AlertRule, ...] = (
    AlertRule("Agent availability", ">99%", "<", 0.95, "ratio", "Agents", "aiwebtest_agent_availability_ratio"),
    AlertRule("Request latency (P95)", "<30s", ">", 60.0, "s", "Rollout", "aiwebtest_request_latency_p95_seconds"),
    AlertRule("Error rate", "<1%", ">", 0.05, "ratio", "Rollout", "aiwebtest_error_rate_ratio"),
    AlertRule("Token usage per request", "<10,000", ">", 20_000, "tokens", "Costs", "aiwebtest_tokens_per_request"),
    AlertRule("Daily cost", "<$100", ">", 200.0, "usd", "Costs", "aiwebtest_daily_cost_usd"),
    AlertRule("Phase 2 fallback rate", "<5%", ">", 0.20, "ratio", "Rollout", "aiwebtest_phase2_fallback_rate_ratio"),
)


@dataclass(frozen=True)
class Alert:
    rule: AlertRule
    value: float | None
    state: str  # ok | firing | no data

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def panel(self) -> str:
        return self.rule.panel

    # The Rollout panel's table reads these.
    @property
    def target(self) -> str:
        return self.rule.target

    @property
    def threshold(self) -> float:
        return self.rule.threshold

    @property
    def unit(self) -> str:
        return self.rule.unit

    def message(self) -> str:
        return self.rule.describe(self.value) if self.value is not None else f"{self.name}: no data"


async def evaluate(pool: ResilientPool) -> list[Alert]:
    """Each rule against the last 24 hours (availability: now)."""
    by_type = await registry.health_by_type(pool)
    healthy, counted = sum(h for h, _ in by_type.values()), sum(c for _, c in by_type.values())
    # Every request of the last 24 hours, by either path, judged as the GUI and the CLI judge it.
    gen = await pool.fetchrow(
        "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY secs) AS p95, "
        "count(*) FILTER (WHERE verdict = 'failed')::float / NULLIF(count(*), 0) AS errors, "
        f"avg(tokens) FILTER (WHERE route = 'agents') AS tokens FROM ({FINISHED_SQL}) f "
        "WHERE verdict <> 'running' AND created_at > now() - interval '24 hours'")
    cost = await pool.fetchval(
        "SELECT sum((metadata->>'cost_usd')::float) FROM agent_metrics WHERE metric_type = 'token_usage' "
        "AND timestamp > (now() AT TIME ZONE 'utc') - interval '24 hours'")
    # A fallback: meant for the agents by the rollout, served by Phase 2 (the agents were off).
    fallback = await pool.fetchval(
        f"SELECT count(*) FILTER (WHERE route = 'phase2')::float / NULLIF(count(*), 0) FROM generation_requests "
        f"WHERE {ASSIGNED_SQL} = 'agents' AND created_at > now() - interval '24 hours'")
    values = [healthy / counted if counted else None, gen["p95"], gen["errors"], gen["tokens"], cost, fallback]
    out = []
    for rule, value in zip(RULES, values):
        if value is None:
            out.append(Alert(rule, None, "no data"))
        else:
            out.append(Alert(rule, float(value), "firing" if rule.fires(float(value)) else "ok"))
    return out


Listener = Callable[[list[Alert], list[Alert]], None]  # (all alerts now, those that started firing)


class AlertMonitor:
    """Evaluates the rules every ``interval_s`` until stopped.

    Attributes:
        latest: the last evaluation (empty until the first one ends).
    """

    def __init__(self, pool: ResilientPool, *, interval_s: float = 30.0) -> None:
        self.pool = pool
        self.interval_s = interval_s
        self.latest: list[Alert] = []
        self._listeners: list[Listener] = []
        # A store outage fails one evaluation; the next round tries again.
        self._loop = Periodic("alert-monitor", lambda: self.check(), interval_s, on_error=lambda exc: log.warning(
            "alerts not evaluated this round: %s: %s", type(exc).__name__, exc))

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)
        if self.latest:
            listener(self.latest, [a for a in self.latest if a.state == "firing"])

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def check(self) -> list[Alert]:
        """One evaluation: log what changed and tell the listeners."""
        before = {a.name: a.state for a in self.latest}
        now = await evaluate(self.pool)
        started = [a for a in now if a.state == "firing" and before.get(a.name) != "firing"]
        for alert in started:
            log.warning("alert firing: %s", alert.message())
        for alert in now:
            if before.get(alert.name) == "firing" and alert.state != "firing":
                log.info("alert resolved: %s", alert.message())
        self.latest = now
        for listener in list(self._listeners):
            try:
                listener(now, started)
            except Exception:  # noqa: BLE001 - one broken listener must not stop the others
                log.exception("alert listener failed")
        return now
