"""Data for ``--screenshots``: one real generation and some demo history.

Only ``--screenshots`` calls this, on a data dir of its own (``make
screenshots`` uses a fresh temporary one): the panels should be pictured
with data in them, and without a model there would be no token history.
The seeded rows are marked ``{"demo": true}`` in their metadata.
"""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta, timezone
from typing import Any

from app.paths import resources_dir
from engine.generate_request import GenerateRequest


async def run_sample_generation(control: Any) -> dict[str, Any]:
    core = control.core
    repo = core.config.data_dir / "demo_repo"
    if not repo.exists():
        shutil.copytree(resources_dir() / "sample_repo", repo)
    submitted = await core.generation.submit(
        GenerateRequest(repository_url=str(repo), target_files=["calc.py", "text_utils.py"], coverage_target=0.85,
                        search_time_s=10, requirements="Edge cases: zero, negative numbers, empty names"),
        use_agents=True)
    lines: list[str] = []
    state = await core.generation.follow(submitted["task_id"], lambda agent, event: lines.append(
        f"[{agent}] {event['message']}"), timeout_s=600)
    return {**state, "progress": lines}


async def run_failing_generation(control: Any) -> dict[str, Any]:
    """A real request that keeps nothing: a module whose import fails, on Phase 2's single pass."""
    core = control.core
    repo = core.config.data_dir / "demo_broken_repo"
    repo.mkdir(exist_ok=True)
    (repo / "billing.py").write_text("import stripe_sdk_v9\n\n\ndef total(items):\n    return sum(items)\n")
    submitted = await core.generation.submit(
        GenerateRequest(repository_url=str(repo), target_files=["billing.py"], coverage_target=0.85, search_time_s=5,
                        mutation_score=False),
        use_agents=False)
    return await core.generation.wait(submitted["task_id"], timeout_s=300)


async def seed_demo(core: Any) -> None:
    """The last hour's demo traffic and day's token use, in place of an earlier run's: a second ``--screenshots``
    run in the same data folder met its own rows (a duplicate request id) and ended in a traceback."""
    pool = core.pool
    from agents.constants import budget_key
    from agents.llm_budget import today

    midnight = datetime.now(timezone.utc).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    earlier = await pool.fetchval(  # an earlier run's share of today's budget goes with its rows
        "SELECT COALESCE(SUM(metric_value), 0) FROM agent_metrics WHERE metadata->>'demo' = 'true' AND timestamp >= $1",
        midnight)
    if earlier:
        await core.redis.decrby(budget_key(today()), int(earlier))
    await pool.execute("DELETE FROM generation_requests WHERE routing_key = 'demo'")
    await pool.execute("DELETE FROM agent_metrics WHERE metadata->>'demo' = 'true'")
    rng = random.Random(5)
    agents = [r["agent_id"] for r in await pool.fetch("SELECT agent_id FROM agent_registry WHERE status = 'healthy'")]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = []
    for hour in range(24, 0, -1):
        for agent in rng.sample(agents, k=min(3, len(agents))):
            tokens = rng.randint(2_000, 24_000)
            rows.append((agent, tokens, {"demo": True, "model": "gpt-4o-mini", "cost_usd": tokens * 0.15 / 1e6},
                         now - timedelta(hours=hour, minutes=rng.randint(0, 59))))
    await pool.executemany(
        "INSERT INTO agent_metrics (agent_id, metric_type, metric_value, metadata, timestamp) "
        "VALUES ($1, 'token_usage', $2, $3, $4)", rows)
    # Today's share also counts against the budget, as real calls would.
    await core.redis.incrby(budget_key(today()), sum(r[1] for r in rows if r[3] >= midnight))
    routes = []
    for minute in range(60, 0, -1):
        for _ in range(rng.randint(1, 4)):
            share = 0.05 if minute > 40 else (0.25 if minute > 20 else 0.5)
            # As the router does: a bucket below the percentage goes to the agents (no fallbacks here).
            bucket = rng.randint(0, 99)
            route = "agents" if bucket < int(share * 100) else "phase2"
            routes.append((f"demo-{minute}-{rng.random():.6f}", route, "percentage", int(share * 100),
                           bucket, "demo", "demo traffic", {"repository_url": "demo", "demo": True},
                           rng.uniform(3, 12) if route == "phase2" else None,
                           datetime.now(timezone.utc) - timedelta(minutes=minute),
                           {"test_count": rng.randint(3, 12), "outcome": "complete", "demo": True}))
    await pool.executemany(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request, status, phase2_seconds, created_at, phase2_result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
        "'completed', $9, $10, $11)", routes)
