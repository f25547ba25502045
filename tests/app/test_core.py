from pathlib import Path

import pytest

from app.core import AppCore
from app.migrations import discover
from engine.errors import ServiceError
from app.services import Endpoints
from tests.conftest import make_config
from tests.helpers.pg import server_processes


@pytest.mark.slow
async def test_start_migrates_seeds_and_reports_health(data_dir: Path) -> None:
    core = AppCore(make_config(data_dir, llm_model="gpt-4o"), serve_api=False)
    steps: list[str] = []
    await core.start(progress=steps.append)
    try:
        assert steps[-1] == "Ready"
        assert core.applied_migrations == [m.name for m in discover()]
        assert core.pool is not None
        assert await core.pool.fetchval("SELECT value FROM system_config WHERE key = 'llm_model'") == "gpt-4o"
        # pgvector codec and JSONB decoding are registered on pool connections
        vec = await core.pool.fetchval("SELECT '[1,2,3]'::vector")
        assert vec.to_list() == [1.0, 2.0, 3.0]
        assert await core.pool.fetchval("SELECT '{\"a\": [1]}'::jsonb") == {"a": [1]}
        report = await core.health()
        assert report.all_up
        assert report.postgres.where == str(data_dir / "run" / "pg")
        assert set(core.timings_s) == {"services", "migrations", "pools", "api"}
    finally:
        await core.shutdown()
    assert server_processes(data_dir) == []
    await core.shutdown()  # twice is harmless


async def test_failed_start_cleans_up_and_says_why(data_dir: Path, servers: Endpoints) -> None:
    core = AppCore(make_config(data_dir, postgres_url="postgresql://u@127.0.0.1:1/x"), serve_api=False)
    with pytest.raises(ServiceError, match="POSTGRES_URL"):
        await core.start()
    assert core.pool is None and core.redis is None
    assert server_processes(data_dir) == []  # the embedded Redis it started is stopped again


@pytest.mark.slow
async def test_health_follows_a_redis_restart(data_dir: Path) -> None:
    core = AppCore(make_config(data_dir), serve_api=False)
    await core.start()
    try:
        assert (await core.health()).all_up
        await core.services.redis.stop()  # a real outage
        report = await core.health()
        assert report.postgres.up and not report.redis.up
        assert report.redis.error
        await core.services.redis.start()  # back, same socket
        report = await core.health()
        assert report.all_up, report
    finally:
        await core.shutdown()
    assert server_processes(data_dir) == []


async def test_tiers_2_and_3_get_the_keyring_key_and_the_stored_endpoint(
    data_dir, memory_keyring, pool, redis_client, scripted_llm
) -> None:
    """Tier 2 and 3 took the key from LLM_API_KEY only and ignored the Settings dialog's values (issue 16):
    now the engine is handed the one gateway, built from the stored base URL and the keyring's key."""
    import sys

    import keyring

    from app.agents_host import build_gateway
    from engine.engine import ExecuteRequest, ExecutionEngine
    from engine.settings_store import SettingsUpdate, update
    from tests.conftest import make_config

    await redis_client.flushdb()  # a fresh budget counter
    config = make_config(data_dir, llm_api_key="sk-from-env")
    assert build_gateway(config, pool, redis_client, None) is None  # no base URL anywhere: no model
    keyring.set_password("aiwebtest", "llm_api_key", "sk-from-the-keyring")
    gateway = build_gateway(config, pool, redis_client, scripted_llm.base_url)
    try:
        await update(pool, SettingsUpdate(max_retries=0))
        scripted_llm.script = [{"content": "```python\ndef test_ok():\n    assert True\n```", "usage": (90, 10)}]
        engine = ExecutionEngine(pool, python=sys.executable, llm=gateway)
        run = await engine.execute(ExecuteRequest("def test_bad():\n    assert False\n", strategy="tier1_to_tier2"))
        assert run.status == "success" and run.attempts[-1]["repaired_by_model"]
        assert scripted_llm.requests[0]["authorization"] == "Bearer sk-from-the-keyring"
        assert await gateway.used_today() == 100  # reserved and settled on the shared counter
    finally:
        await gateway.close()
    keyring.delete_password("aiwebtest", "llm_api_key")
    fallback = build_gateway(config, pool, redis_client, scripted_llm.base_url)
    assert fallback.settings.api_key == "sk-from-env"
    await fallback.close()