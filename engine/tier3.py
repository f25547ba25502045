"""Tier 3: an LLM agent carries out a test's intent with browser tools.

The agent gets the test's name, docstring and source as the intent, and a
small tool set on a real Playwright page (goto, click, fill, read,
assert_text, finish). It runs in our process because it needs the API key,
which must never enter a sandboxed test; the code it "runs" is only our
tool implementations, never the test's own source.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from openai import AsyncOpenAI

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


@dataclass(frozen=True)
class LLMEndpoint:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0


@dataclass
class Tier3Result:
    status: str  # success | failed | error
    message: str
    steps: list[dict] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_s: float = 0.0


class Tier3Agent:
    def __init__(self, endpoint: LLMEndpoint, *, chromium: str = "/usr/bin/chromium", max_turns: int = 20) -> None:
        self.endpoint = endpoint
        self.chromium = chromium
        self.max_turns = max_turns

    async def carry_out(self, intent: list[dict]) -> Tier3Result:
        from playwright.async_api import async_playwright

        start = time.perf_counter()
        result = Tier3Result("error", "")
        client = AsyncOpenAI(
            base_url=self.endpoint.base_url,
            api_key=self.endpoint.api_key or "not-needed",
            timeout=self.endpoint.timeout_s,
            max_retries=2,
        )
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
                    await self._loop(client, page, intent, result)
                finally:
                    await browser.close()
        except Exception as exc:  # noqa: BLE001 - an agent failure is a tier result, not a crash
            result.status, result.message = "error", f"tier 3 agent failed: {type(exc).__name__}: {exc}"
        finally:
            await client.close()
        result.duration_s = time.perf_counter() - start
        return result

    async def _loop(self, client: AsyncOpenAI, page: Any, intent: list[dict], result: Tier3Result) -> None:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Carry out these tests:\n" + json.dumps(intent, indent=2)},
        ]
        for _ in range(self.max_turns):
            reply = await client.chat.completions.create(
                model=self.endpoint.model, messages=messages, tools=TOOLS, tool_choice="auto"
            )
            if reply.usage is not None:
                result.prompt_tokens += reply.usage.prompt_tokens
                result.completion_tokens += reply.usage.completion_tokens
            message = reply.choices[0].message
            if not message.tool_calls:
                result.status, result.message = "failed", f"agent stopped without finishing: {message.content!r}"
                return
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                args = json.loads(call.function.arguments or "{}")
                if call.function.name == "finish":
                    passed = bool(args.get("passed"))
                    result.steps.append({"tool": "finish", "args": args})
                    result.status = "success" if passed else "failed"
                    result.message = args.get("summary", "")
                    return
                outcome = await _run_tool(page, call.function.name, args)
                result.steps.append({"tool": call.function.name, "args": args, "result": outcome})
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(outcome)})
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
