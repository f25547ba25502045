"""Tier 3: an LLM agent carries out a test's intent with browser tools.

The agent gets the test's name, docstring and source as the intent, and a
small tool set on a real Playwright page (goto, click, fill, read,
assert_text, finish). It runs in our process because it needs the API key,
which must never enter a sandboxed test; the code it "runs" is only our
tool implementations, never the test's own source.

Its model calls go through the gateway (``ModelCaller``): budget, usage,
price, limits, and tool calls or JSON output as the model needs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from engine.model_port import ModelCaller, ModelRefused

SYSTEM_PROMPT = (
    "You are a QA agent. You are given a browser test whose code no longer runs. Carry out what the "
    "test intends, step by step, with the tools. Check the same things the test asserts. When done, "
    "call finish with passed=true only if every check held."
)

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "description": desc, "parameters": {
        "type": "object", "properties": props, "required": list(props)}}}
    for name, desc, props in [
        ("goto", "Open a URL", {"url": {"type": "string"}}),
        ("click", "Click the element matching a CSS selector or text=...", {"selector": {"type": "string"}}),
        ("fill", "Type text into an input", {"selector": {"type": "string"}, "text": {"type": "string"}}),
        ("read", "Read the visible text of an element, or of the page with selector 'body'",
         {"selector": {"type": "string"}}),
        ("assert_text", "Check that an element's text contains the expected text",
         {"selector": {"type": "string"}, "expected": {"type": "string"}}),
        ("finish", "End: did the intent hold?", {"passed": {"type": "boolean"}, "summary": {"type": "string"}}),
    ]
]


@dataclass
class Tier3Result:
    status: str  # success | failed | error
    message: str
    steps: list[dict] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None once a call had no price
    duration_s: float = 0.0


class Tier3Agent:
    def __init__(self, llm: ModelCaller, *, chromium: str = "/usr/bin/chromium", max_turns: int = 20,
                 execution_id: int | None = None) -> None:
        self.llm = llm
        self.execution_id = execution_id
        self.chromium = chromium
        self.max_turns = max_turns

    async def carry_out(self, intent: list[dict]) -> Tier3Result:
        from playwright.async_api import async_playwright

        start = time.perf_counter()
        result = Tier3Result("error", "")
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=self.chromium, headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--no-first-run"],
                )
                try:
                    page = await browser.new_page()
                    page.set_default_timeout(5000)
                    await self._loop(page, intent, result)
                finally:
                    await browser.close()
        except ModelRefused as exc:  # over budget, timed out: the tier's outcome, in the gateway's words
            result.status, result.message = "error", f"tier 3 agent stopped: {exc}"
        except Exception as exc:  # noqa: BLE001 - an agent failure is a tier result, not a crash
            result.status, result.message = "error", f"tier 3 agent failed: {type(exc).__name__}: {exc}"
        result.duration_s = time.perf_counter() - start
        return result

    async def _loop(self, page: Any, intent: list[dict], result: Tier3Result) -> None:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Carry out these tests:\n" + json.dumps(intent, indent=2)},
        ]
        task = f"execution:{self.execution_id}" if self.execution_id is not None else None
        for _ in range(self.max_turns):
            reply = await self.llm.act(messages, TOOLS, agent_id="phase2", task_id=task, purpose="tier 3",
                                       max_tokens=512)
            result.prompt_tokens += reply.prompt_tokens
            result.completion_tokens += reply.completion_tokens
            result.cost_usd = None if reply.cost_usd is None or result.cost_usd is None else \
                result.cost_usd + reply.cost_usd
            if not reply.calls:
                result.status, result.message = "failed", f"agent stopped without finishing: {reply.text!r}"
                return
            messages.append(reply.assistant)
            for call in reply.calls:
                if call.name == "finish":
                    result.steps.append({"tool": "finish", "args": call.args, "mode": reply.mode})
                    result.status = "success" if bool(call.args.get("passed")) else "failed"
                    result.message = str(call.args.get("summary", ""))
                    return
                outcome = await _run_tool(page, call.name, call.args)
                result.steps.append({"tool": call.name, "args": call.args, "result": outcome, "mode": reply.mode})
                messages.append(self.llm.tool_result(reply, call, outcome))
        result.status, result.message = "failed", f"no verdict after {self.max_turns} turns"


async def _run_tool(page: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    try:
        if name == "goto":
            response = await page.goto(args["url"])
            return {"ok": True, "status": response.status if response else None, "title": await page.title()}
        if name == "click":
            await page.click(args["selector"])
            return {"ok": True}
        if name == "fill":
            await page.fill(args["selector"], args["text"])
            return {"ok": True}
        if name == "read":
            return {"ok": True, "text": (await page.inner_text(args["selector"]))[:2000]}
        if name == "assert_text":
            text = await page.inner_text(args["selector"])
            return {"ok": args["expected"] in text, "text": text[:500]}
        return {"ok": False, "error": f"unknown tool {name}"}
    except Exception as exc:  # noqa: BLE001 - reported back to the model
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
