"""Issue 16's slow model, met by both profiles at once: run in a process of its own.

A server that takes 90 s to answer is 90 s of waiting and no work, so ``tests/conftest.py`` starts
this probe as soon as the test that reads it is collected, and the suite runs on meanwhile (the
suite must stay under 15 minutes on 2 cores). It starts the app's stores (embedded PostgreSQL and
Redis in a temporary data dir), sends one prompt through a gateway under the local profile and one
under the hosted profile (no re-sends) to a scripted server that answers after 90 s, and prints one
JSON object with what each got and what was counted.

Run by hand: ``.venv/bin/python -m tests.helpers.slow_answer_probe [--delay 90]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ASK = [{"role": "user", "content": "Say hello."}]


async def probe(delay_s: float) -> dict[str, Any]:
    from agents.llm_gateway import GatewaySettings, LLMGateway
    from app.config import load_config
    from app.core import AppCore
    from tests.helpers.llm_server import ScriptedLLM

    server = ScriptedLLM([{"content": "slow hello", "usage": (2400, 40), "delay_s": delay_s},
                          {"content": "slow hello", "usage": (2400, 40), "delay_s": delay_s}]).start()
    data = Path(tempfile.mkdtemp(prefix="awt-probe-"))
    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(data), aiwebtest_agents="none"),
                   serve_api=False)
    out: dict[str, Any] = {}
    try:
        await core.start()
        assert core.pool is not None and core.redis is not None
        local = LLMGateway(core.pool, core.redis, GatewaySettings(server.base_url, "gpt-4o-mini", "sk-test",
                                                                  {"llm_profile": "local"}))
        hosted = LLMGateway(core.pool, core.redis, GatewaySettings(server.base_url, "gpt-4o-mini", "sk-test",
                                                                   {"llm_profile": "hosted", "llm_max_retries": "0"}))
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def timed(gateway: LLMGateway) -> tuple[Any, float]:
            try:
                return await gateway.chat(ASK, agent_id="phase2", purpose="probe"), loop.time() - started
            except Exception as exc:  # noqa: BLE001 - the outcome is what is reported
                return exc, loop.time() - started

        (answer, local_s), (refusal, hosted_s) = await asyncio.gather(timed(local), timed(hosted))
        await local.close()
        await hosted.close()
        rows = await core.pool.fetch("SELECT metric_value, metadata FROM agent_metrics "
                                     "WHERE metric_type = 'token_usage' ORDER BY metric_id")
        out = {
            "local": {"type": type(answer).__name__, "text": getattr(answer, "text", str(answer)),
                      "tokens": getattr(answer, "tokens", None), "seconds": local_s},
            "hosted": {"type": type(refusal).__name__, "message": str(refusal), "seconds": hosted_s},
            "usage_rows": [{"tokens": r["metric_value"], **r["metadata"]} for r in rows],
            "requests": len(server.requests),
        }
    finally:
        await core.shutdown()
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=90.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(probe(args.delay))), flush=True)
    sys.exit(0)
