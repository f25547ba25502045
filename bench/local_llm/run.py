"""The gateway against a real llama.cpp server on this machine: what a slow local model does to it.

Run by hand, with a server started as ``bench/local_llm/README.md`` says:
``.venv/bin/python bench/local_llm/run.py --server http://127.0.0.1:8091/v1 [--prompt-tokens 2400]``

It starts the app's stores (embedded PostgreSQL and Redis in a temporary data dir, no agents)
and measures, through ``agents/llm_gateway.py``:

1. a prompt the size issue 16 measured (a 197-line file, ~2,400 tokens) under the **local**
   profile: time to the first token (the server reading the prompt), then writing speed;
2. the same prompt under the **hosted** profile with no re-sends: it should time out cleanly;
3. how soon the server takes a tiny prompt after that abandoned one (did the disconnect free it?);
4. a tier-3 action (``act``): whether this model makes tool calls or needs JSON-schema output.

Each line printed is one JSON object; the last is the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def long_prompt(tokens: int) -> list[dict[str, str]]:
    """Test generation's prompt for a module of about this many tokens (about 12 tokens a line)."""
    lines = []
    n = 0
    while len("\n".join(lines)) < tokens * 4:
        lines += [f"def function_{n}(value, limit={n}):", f"    \"\"\"Clamp value number {n}.\"\"\"",
                  f"    if value > limit:", f"        return limit - {n}", "    return value", ""]
        n += 1
    source = "\n".join(lines)
    # A fresh first line each time: llama.cpp reuses a cached prompt prefix, which would hide the reading time.
    nonce = uuid.uuid4().hex
    return [{"role": "user", "content": f"Request {nonce}. Write pytest tests for this module. Return one "
                                        "```python block.\n\n"
                                        f"```python\n{source}\n```"}]


async def main(server: str, prompt_tokens: int, answer_tokens: int) -> int:
    from agents.llm_gateway import GatewaySettings, LLMGateway, LLMUnavailable
    from app.config import load_config
    from app.core import AppCore
    from engine.model_port import StreamProgress
    from engine.tier3 import TOOLS

    data = Path(tempfile.mkdtemp(prefix="awt-llm-"))
    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(data), aiwebtest_agents="none"),
                   serve_api=False)
    await core.start()
    summary: dict[str, object] = {"server": server, "prompt_tokens_asked": prompt_tokens}
    try:
        assert core.pool is not None and core.redis is not None
        await core.pool.execute("UPDATE system_config SET value = 'local-1.5b' WHERE key = 'llm_model'")
        local = LLMGateway(core.pool, core.redis, GatewaySettings(server, "local-1.5b", None,
                                                                  {"llm_profile": "local",
                                                                   "llm_max_tokens": str(answer_tokens)}))
        hosted = LLMGateway(core.pool, core.redis, GatewaySettings(server, "local-1.5b", None,
                                                                   {"llm_profile": "hosted", "llm_max_retries": "0",
                                                                    "llm_max_tokens": str(answer_tokens)}))
        progress: list[StreamProgress] = []

        async def seen(p: StreamProgress) -> None:
            if not progress:
                print(json.dumps({"first_token_after_s": round(p.waiting_s, 1)}), flush=True)
            progress.append(p)

        started = time.perf_counter()
        reply = await local.chat(long_prompt(prompt_tokens), agent_id="phase2", purpose="bench", on_progress=seen)
        took = time.perf_counter() - started
        first = progress[0].waiting_s if progress else took
        writing = took - first
        summary["local"] = {"ok": True, "seconds": round(took, 1), "prompt_tokens": reply.prompt_tokens,
                            "completion_tokens": reply.completion_tokens,
                            "first_token_s": round(first, 1),
                            "prompt_read_tokens_per_s": round(reply.prompt_tokens / first, 1) if first else None,
                            "write_tokens_per_s": round(reply.completion_tokens / writing, 2) if writing else None}
        print(json.dumps({"local": summary["local"]}), flush=True)

        started = time.perf_counter()
        try:
            await hosted.chat(long_prompt(prompt_tokens), agent_id="phase2", purpose="bench")
            summary["hosted"] = {"ok": True, "seconds": round(time.perf_counter() - started, 1)}
        except LLMUnavailable as exc:
            summary["hosted"] = {"ok": False, "seconds": round(time.perf_counter() - started, 1),
                                 "message": str(exc)}
        print(json.dumps({"hosted": summary["hosted"]}), flush=True)

        started = time.perf_counter()
        tiny = await local.chat([{"role": "user", "content": "Say OK."}], agent_id="phase2", purpose="bench",
                                max_tokens=4)
        summary["tiny_after_abandoned_s"] = round(time.perf_counter() - started, 1)
        summary["tiny_tokens"] = tiny.tokens
        print(json.dumps({"tiny_after_abandoned_s": summary["tiny_after_abandoned_s"]}), flush=True)

        started = time.perf_counter()
        local = LLMGateway(core.pool, core.redis, GatewaySettings(server, "local-1.5b", None, {"llm_profile": "local"}))
        try:
            action = await local.act([{"role": "system", "content": "You are a QA agent."},
                                      {"role": "user", "content": "Open http://127.0.0.1:1/ and check the title."}],
                                     TOOLS, agent_id="phase2", purpose="bench", max_tokens=512)
            summary["act"] = {"mode": action.mode, "calls": [c.name for c in action.calls],
                              "seconds": round(time.perf_counter() - started, 1)}
        except LLMUnavailable as exc:  # a random-weight model may write a JSON string that never ends
            summary["act"] = {"error": str(exc)[:300], "seconds": round(time.perf_counter() - started, 1)}
        summary["tool_modes"] = await core.pool.fetchval(
            "SELECT value FROM system_config WHERE key = 'llm_tool_modes'")
        print(json.dumps({"act": summary["act"]}), flush=True)
        rows = await core.pool.fetch("SELECT metric_value, metadata FROM agent_metrics "
                                     "WHERE metric_type = 'token_usage' ORDER BY metric_id")
        summary["usage_rows"] = [{"tokens": r["metric_value"], "abandoned": bool(r["metadata"].get("abandoned")),
                                  "unpriced": bool(r["metadata"].get("unpriced"))} for r in rows]
        summary["budget_counter"] = await local.used_today()
        await local.close()
        await hosted.close()
    finally:
        await core.shutdown()
        shutil.rmtree(data, ignore_errors=True)
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--prompt-tokens", type=int, default=2400)
    parser.add_argument("--answer-tokens", type=int, default=64)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.server, args.prompt_tokens, args.answer_tokens)))
