"""``GET /metrics``: the app in Prometheus' text format.

Two kinds of figures, kept apart on purpose:

* **HTTP** (``http_request_duration_seconds``, ``http_requests_total``):
  measured in this process by prometheus-fastapi-instrumentator's
  middleware, labelled with the route *template* (``path``), so the spec's
  ``path=~"/api/v2/.*"`` selects routes, not raw URLs with task ids in them.
* **The fleet** (agents, tokens, cost, generation requests): read from
  PostgreSQL at scrape time, so workers in other processes and on other
  machines are counted, a restarted app loses nothing, and two processes
  scraped side by side report the same totals. Counters are sums over the
  tables' rows, so they only grow while rows are kept.

Every name the spec's alert rules and our Grafana dashboard use is defined
here and nowhere else (``METRIC_NAMES``; a test checks the dashboard and
rules against a real scrape).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import asyncpg
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.metrics import Info
from starlette.applications import Starlette

from agents import registry
from agents import system_config_table as config_table
from agents.constants import DEFAULT_DAILY_TOKEN_BUDGET, TASK_HANDLERS
from app.alerts import Alert
from app.alerts import evaluate as evaluate_alerts
from app.db import ResilientPool
from app.outcome import FINISHED_SQL
from app.router import ASSIGNED_SQL

# The *_created samples (one per series, a start time) only double the scrape for our use.
disable_created_metrics()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# API calls answer in milliseconds; a blocked loop or a slow store shows up past a second.
HTTP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# A generation request takes seconds to an hour; the spec's threshold is 60 s.
REQUEST_BUCKETS_S = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

METRIC_NAMES = (
    "http_request_duration_seconds",
    "http_requests_total",
    "agent_registry_healthy",
    "agent_registry_total",
    "agent_token_usage_total",
    "aiwebtest_llm_cost_usd_total",
    "aiwebtest_llm_tokens_today",
    "aiwebtest_llm_cost_today_usd",
    "aiwebtest_token_budget_daily",
    "aiwebtest_agent_tasks_total",
    "aiwebtest_generation_requests_total",
    "aiwebtest_generation_finished_total",
    "aiwebtest_generation_duration_seconds",
    "aiwebtest_generation_tokens_total",
    # The spec's six key metrics as the app evaluates them (last 24 hours; availability now), and
    # whether each one's alert threshold is crossed.
    "aiwebtest_agent_availability_ratio",
    "aiwebtest_request_latency_p95_seconds",
    "aiwebtest_error_rate_ratio",
    "aiwebtest_tokens_per_request",
    "aiwebtest_daily_cost_usd",
    "aiwebtest_phase2_fallback_rate_ratio",
    "aiwebtest_alert_firing",
)


class HttpMetrics:
    """This process's HTTP figures, in a registry of its own (one per API object, so tests can run many).

    Attributes:
        registry: the HTTP histogram and counter, and this process's CPU and memory.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram("http_request_duration_seconds", "Time to answer an API request",
                                  ["path", "method"], buckets=HTTP_BUCKETS_S, registry=self.registry)
        self.requests = Counter("http_requests_total", "API requests answered",
                                ["path", "method", "status"], registry=self.registry)
        ProcessCollector(registry=self.registry)

    def observe(self, info: Info) -> None:
        path = info.modified_handler  # the route template; "none" for a URL no route matches
        self.duration.labels(path, info.method).observe(info.modified_duration)
        self.requests.labels(path, info.method, info.modified_status).inc()

    def instrument(self, app: Starlette) -> None:
        """Measure every request that reaches the app (the guard's refusals never do)."""
        Instrumentator(registry=self.registry, should_group_status_codes=True, should_group_untemplated=True) \
            .add(self.observe).instrument(app)


@dataclass(frozen=True)
class FleetSnapshot:
    """What every process together has done, read in one go from PostgreSQL."""

    agents: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> (healthy, counted)
    tokens: list[tuple[str, str, float, float]] = field(default_factory=list)  # type, model, tokens, usd
    tokens_today: float = 0.0
    cost_today_usd: float = 0.0
    budget_tokens: float = 0.0
    tasks: list[tuple[str, str, int]] = field(default_factory=list)  # agent type, status, count
    requests: list[tuple[str, str, str, int]] = field(default_factory=list)  # route, mode, assigned, count
    finished: list[tuple[str, str, int, float]] = field(default_factory=list)  # route, outcome, count, tokens
    durations: dict[str, tuple[list[int], float, int]] = field(default_factory=dict)  # route -> buckets, sum, n
    key_metrics: list[Alert] = field(default_factory=list)


async def fleet_snapshot(pool: ResilientPool) -> FleetSnapshot:
    async def read(conn: asyncpg.Connection) -> FleetSnapshot:
        agents = await registry.health_by_type(conn)
        tokens = await conn.fetch(
            "SELECT COALESCE(r.agent_type, 'unknown') AS agent_type, COALESCE(m.metadata->>'model', '') AS model, "
            "sum(m.metric_value) AS tokens, sum(COALESCE((m.metadata->>'cost_usd')::float, 0)) AS usd "
            "FROM agent_metrics m LEFT JOIN agent_registry r USING (agent_id) "
            "WHERE m.metric_type = 'token_usage' GROUP BY 1, 2")
        today = await conn.fetchrow(
            "SELECT COALESCE(sum(metric_value), 0) AS tokens, "
            "COALESCE(sum((metadata->>'cost_usd')::float), 0) AS usd FROM agent_metrics "
            "WHERE metric_type = 'token_usage' AND timestamp >= date_trunc('day', now() AT TIME ZONE 'utc')")
        budget = await config_table.get(conn, "daily_token_budget")
        tasks = await conn.fetch(
            "SELECT COALESCE(r.agent_type, t.task_type) AS agent_type, t.task_type, t.status, count(*) AS n "
            "FROM agent_tasks t LEFT JOIN agent_registry r ON r.agent_id = t.assigned_agent_id "
            "WHERE t.status IN ('completed', 'failed') GROUP BY 1, 2, 3")
        requests = await conn.fetch(
            f"SELECT route, rollout_mode, {ASSIGNED_SQL} AS assigned, count(*) AS n FROM generation_requests "
            "GROUP BY 1, 2, 3")
        finished = await conn.fetch(
            f"SELECT route, verdict, count(*) AS n, sum(tokens) AS tokens FROM ({FINISHED_SQL}) f "
            "WHERE verdict <> 'running' GROUP BY 1, 2")
        buckets = await conn.fetch(
            f"SELECT route, array_agg(n ORDER BY le) AS counts FROM ("
            f"  SELECT f.route, b.le, count(*) FILTER (WHERE f.secs <= b.le) AS n "
            f"  FROM ({FINISHED_SQL}) f CROSS JOIN unnest($1::float8[]) AS b(le) "
            f"  WHERE f.verdict <> 'running' AND f.secs IS NOT NULL GROUP BY 1, 2) x GROUP BY 1",
            list(REQUEST_BUCKETS_S))
        sums = await conn.fetch(
            f"SELECT route, sum(secs) AS total, count(*) AS n FROM ({FINISHED_SQL}) f "
            "WHERE verdict <> 'running' AND secs IS NOT NULL GROUP BY 1")
        by_route = {r["route"]: (r["total"], r["n"]) for r in sums}
        return FleetSnapshot(
            agents=agents,
            tokens=[(r["agent_type"], r["model"], float(r["tokens"]), float(r["usd"])) for r in tokens],
            tokens_today=float(today["tokens"]),
            cost_today_usd=float(today["usd"]),
            budget_tokens=float(budget or DEFAULT_DAILY_TOKEN_BUDGET),
            tasks=[(r["agent_type"] if r["agent_type"] in set(TASK_HANDLERS.values()) else
                    TASK_HANDLERS.get(r["task_type"], r["agent_type"]), r["status"], r["n"]) for r in tasks],
            requests=[(r["route"], r["rollout_mode"], r["assigned"], r["n"]) for r in requests],
            finished=[(r["route"], r["verdict"], r["n"], float(r["tokens"] or 0)) for r in finished],
            durations={r["route"]: (list(r["counts"]), float(by_route[r["route"]][0]), int(by_route[r["route"]][1]))
                       for r in buckets if r["route"] in by_route},
        )

    snapshot = await pool.run(read)  # one connection, retried whole through a restart
    return replace(snapshot, key_metrics=await evaluate_alerts(pool))


class FleetCollector(Collector):
    """Turns one snapshot into metric families (prometheus-client's collectors are synchronous,
    so the database is read before, on the loop, and this only formats)."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        healthy = GaugeMetricFamily("agent_registry_healthy", "Registered agents that are healthy",
                                    labels=["agent_type"])
        total = GaugeMetricFamily("agent_registry_total",
                                  "Registered agents, less those shutting down and those dead past the grace period",
                                  labels=["agent_type"])
        for agent_type, (ok, counted) in sorted(s.agents.items()):
            healthy.add_metric([agent_type], ok)
            total.add_metric([agent_type], counted)
        yield healthy
        yield total

        tokens = CounterMetricFamily("agent_token_usage", "Model tokens used (prompt and completion), each call once",
                                     labels=["agent_type", "model"])
        cost = CounterMetricFamily("aiwebtest_llm_cost_usd", "Model cost in USD, input and output tokens at their price",
                                   labels=["agent_type", "model"])
        for agent_type, model, used, usd in sorted(s.tokens):
            tokens.add_metric([agent_type, model], used)
            cost.add_metric([agent_type, model], usd)
        yield tokens
        yield cost
        yield GaugeMetricFamily("aiwebtest_llm_tokens_today", "Model tokens used since 00:00 UTC", value=s.tokens_today)
        yield GaugeMetricFamily("aiwebtest_llm_cost_today_usd", "Model cost since 00:00 UTC", value=s.cost_today_usd)
        yield GaugeMetricFamily("aiwebtest_token_budget_daily", "The daily token budget (system_config)",
                                value=s.budget_tokens)

        tasks = CounterMetricFamily("aiwebtest_agent_tasks", "Agent tasks finished, by agent type and outcome",
                                    labels=["agent_type", "status"])
        for agent_type, status, n in sorted(s.tasks):
            tasks.add_metric([agent_type, status], n)
        yield tasks

        requests = CounterMetricFamily(
            "aiwebtest_generation_requests",
            "Generation requests received: the route taken, the rollout mode then, and where the rollout assigned "
            "them (assigned=agents, route=phase2 is a fallback: the agents were off)",
            labels=["route", "rollout_mode", "assigned"])
        for route, mode, assigned, n in sorted(s.requests):
            requests.add_metric([route, mode, assigned], n)
        yield requests
        finished = CounterMetricFamily("aiwebtest_generation_finished",
                                       "Generation requests finished, by verdict (completed, partial, failed: app/outcome.py)",
                                       labels=["route", "outcome"])
        tokens_used = CounterMetricFamily("aiwebtest_generation_tokens", "Tokens used by finished generation requests",
                                          labels=["route"])
        per_route: dict[str, float] = {}
        for route, outcome, n, used in sorted(s.finished):
            finished.add_metric([route, outcome], n)
            per_route[route] = per_route.get(route, 0.0) + used
        for route, used in sorted(per_route.items()):
            tokens_used.add_metric([route], used)
        yield finished
        yield tokens_used

        duration = HistogramMetricFamily("aiwebtest_generation_duration_seconds",
                                         "Time from start to result of a generation request", labels=["route"])
        for route, (counts, total_s, n) in sorted(s.durations.items()):
            buckets = [(floatToGoString(le), float(c)) for le, c in zip(REQUEST_BUCKETS_S, counts)] + [("+Inf", float(n))]
            duration.add_metric([route], buckets, sum_value=total_s)
        yield duration

        firing = GaugeMetricFamily("aiwebtest_alert_firing", "1 while a key metric is past its alert threshold",
                                   labels=["alert"])
        for alert in s.key_metrics:
            family = GaugeMetricFamily(alert.rule.metric, f"{alert.name} (target {alert.target}; alert "
                                       f"{'below' if alert.rule.op == '<' else 'above'} {alert.threshold:g})")
            if alert.value is not None:  # no data: the family with no sample, as Prometheus expects
                family.add_metric([], alert.value)
            yield family
            firing.add_metric([alert.name], 1.0 if alert.state == "firing" else 0.0)
        yield firing


async def exposition(pool: ResilientPool, http: HttpMetrics) -> bytes:
    """The whole scrape: this process's HTTP figures, then the fleet's.

    Rendered in a thread: the HTTP histograms (route x method x status x
    bucket) took 300 ms of the loop per scrape in the soak (issue 28);
    prometheus_client's registries are safe to collect from another thread."""
    fleet = CollectorRegistry()
    fleet.register(FleetCollector(await fleet_snapshot(pool)))
    return await asyncio.to_thread(lambda: generate_latest(http.registry) + generate_latest(fleet))
