import time

import asyncpg

from app import router, system_config
from tests.conftest import make_config


def test_raising_the_percentage_only_adds_keys() -> None:
    keys = [f"conversation-{i}" for i in range(2000)]
    previous: set[str] = set()
    for pct in (0, 5, 25, 50, 90, 100):
        chosen = {k for k in keys if router.bucket_of(k, "salt") < pct}
        assert previous <= chosen
        assert abs(len(chosen) / len(keys) - pct / 100) < 0.04
        previous = chosen
    assert router.bucket_of("same", "salt") == router.bucket_of("same", "salt")
    assert [router.bucket_of(k, "a") for k in keys[:50]] != [router.bucket_of(k, "b") for k in keys[:50]]


async def test_modes_and_the_flag(pool: asyncpg.Pool, data_dir) -> None:
    config = make_config(data_dir)
    assert (await router.decide(pool, config, "k")).route == "phase2"  # flag off by default
    await system_config.set_value(pool, "agents_enabled", "true")
    for mode, expected in (("off", "phase2"), ("full", "agents"), ("shadow", "shadow")):
        await system_config.set_value(pool, "rollout_mode", mode)
        assert (await router.decide(pool, config, "k")).route == expected
    await system_config.set_value(pool, "rollout_mode", "percentage")
    await system_config.set_value(pool, "rollout_percentage", "50")
    decisions = [await router.decide(pool, config, f"user-{i}") for i in range(200)]
    assert {d.route for d in decisions} == {"agents", "phase2"}
    assert all((d.route == "agents") == (d.bucket < 50) for d in decisions)
    killed = make_config(data_dir, agents_enabled=False)
    await system_config.set_value(pool, "rollout_mode", "full")
    decision = await router.decide(pool, killed, "k")
    assert decision.route == "phase2" and "kill switch" in decision.reason


async def test_turning_agents_off_reaches_another_process_within_a_second(migrated_db: str, data_dir) -> None:
    """Two pools stand for two processes: one flips the flag, the other's next request follows."""
    from app.db import create_pool

    here, there = await create_pool(migrated_db), await create_pool(migrated_db)
    try:
        config = make_config(data_dir)
        await system_config.set_value(here, "agents_enabled", "true")
        await system_config.set_value(here, "rollout_mode", "full")
        assert (await router.decide(there, config, "k")).route == "agents"
        flipped = time.perf_counter()
        await here.execute("UPDATE system_config SET value = 'false' WHERE key = 'agents_enabled'")
        decision = await router.decide(there, config, "k")
        assert decision.route == "phase2"
        assert time.perf_counter() - flipped < 1.0
    finally:
        await here.close()
        await there.close()
