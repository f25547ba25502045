"""Tier 3: an LLM agent carries out a test's intent with browser tools.

The agent gets the test's name, docstring and source as the intent, and a
small tool set on a real Playwright page (goto, click, fill, read,
assert_text, finish). It runs in our process because it needs the API key,
which must never enter a sandboxed test; the code it "runs" is only our
tool implementations, never the test's own source.

Its model calls go through the gateway (``ModelCaller``): budget, usage,
price, limits, and tool calls or JSON output as the model needs.

With Stagehand chosen (issue 15) the agent's hands are Stagehand's: it
says what to do in words ("click the Send button") and Stagehand finds the
element from the accessibility tree, with its own model calls through the
same gateway. Those calls are added to the tier's tokens and cost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from engine.model_port import ModelCaller, ModelRefused, Tally
from engine.stagehand_session import (
    StagehandSession,
    StagehandSettings,
    StagehandUnavailable,
)

SYSTEM_PROMPT = (
    "You are a QA agent. You are given a browser test whose code no longer runs. Carry out what the "
    "test intends, step by step, with the tools. Check the same things the test asserts. When done, "
    "call finish with passed=true only if every check held."
)

def _tools(specs: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": name, "description": desc, "parameters": {
        "type": "object", "properties": props, "required": list(props)}}} for name, desc, props in specs]


_GOTO = ("goto", "Open a URL", {"url": {"type": "string"}})
_READ = ("read", "Read the visible text of an element, or of the page with selector 'body'",
         {"selector": {"type": "string"}})
_ASSERT = ("assert_text", "Check that an element's text contains the expected text",
           {"selector": {"type": "string"}, "expected": {"type": "string"}})
_FINISH = ("finish", "End: did the intent hold?", {"passed": {"type": "boolean"}, "summary": {"type": "string"}})
TOOLS: list[dict[str, Any]] = _tools([
    _GOTO,
    ("click", "Click the element matching a CSS selector or text=...", {"selector": {"type": "string"}}),
    ("fill", "Type text into an input", {"selector": {"type": "string"}, "text": {"type": "string"}}),
    _READ, _ASSERT, _FINISH,
])
# Stagehand's hands: one action in words instead of click and fill by selector.
STAGEHAND_TOOLS: list[dict[str, Any]] = _tools([
    _GOTO,
    ("act", "Do one thing on the page, said in words: 'click the Send button', 'type a@b.c into the email "
            "field'", {"instruction": {"type": "string"}}),
    _READ, _ASSERT, _FINISH,
])


@dataclass
class Tier3Result:
    status: str  # success | failed | error
    message: str
    steps: list[dict] = field(default_factory=list)
    usage: Tally = field(default_factory=Tally)
    duration_s: float = 0.0
    backend: str = "playwright"  # playwright | stagehand
    unavailable: bool = False  # Stagehand could not start: the engine falls back to our own agent


class Tier3Agent:
    def __init__(self, llm: ModelCaller, *, chromium: str = "/usr/bin/chromium", max_turns: int = 20,
                 execution_id: int | None = None, stagehand: StagehandSettings | None = None) -> None:
        """``stagehand``: carry out the intent with Stagehand's browser and ``act``; None: Playwright."""
        self.llm = llm
        self.execution_id = execution_id
        self.chromium = chromium
        self.max_turns = max_turns
        self.stagehand = stagehand

    @property
    def _task(self) -> str | None:
        return f"execution:{self.execution_id}" if self.execution_id is not None else None

    async def carry_out(self, intent: list[dict]) -> Tier3Result:
        if self.stagehand is not None:
            return await self._with_stagehand(intent, self.stagehand)
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
                    await self._loop(intent, result, TOOLS, lambda name, args: _run_tool(page, name, args))
                finally:
                    await browser.close()
        except ModelRefused as exc:  # over budget, timed out: the tier's outcome, in the gateway's words
            result.status, result.message = "error", f"tier 3 agent stopped: {exc}"
        except Exception as exc:  # noqa: BLE001 - an agent failure is a tier result, not a crash
            result.status, result.message = "error", f"tier 3 agent failed: {type(exc).__name__}: {exc}"
        result.duration_s = time.perf_counter() - start
        return result

    async def _with_stagehand(self, intent: list[dict], settings: StagehandSettings) -> Tier3Result:
        start = time.perf_counter()
        result = Tier3Result("error", "", backend="stagehand")
        session = StagehandSession(settings, self.llm, purpose="tier 3 stagehand", task_id=self._task)
        try:
            async with session:
                page = await session.page()

                async def run(name: str, args: dict[str, Any]) -> dict[str, Any]:
                    return await _run_stagehand_tool(session, page, name, args)

                await self._loop(intent, result, STAGEHAND_TOOLS, run)
        except StagehandUnavailable as exc:
            result.status, result.message, result.unavailable = "error", f"Stagehand: {exc}", True
        except ModelRefused as exc:
            result.status, result.message = "error", f"tier 3 agent stopped: {exc}"
        except Exception as exc:  # noqa: BLE001 - an agent failure is a tier result, not a crash
            result.status, result.message = "error", f"tier 3 agent failed: {type(exc).__name__}: {exc}"
        # Stagehand's own model calls (finding elements for act) are the tier's too.
        result.usage.add(session.usage)
        result.duration_s = time.perf_counter() - start
        return result

    async def _loop(self, intent: list[dict], result: Tier3Result, tools: list[dict[str, Any]],
                    run: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]) -> None:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Carry out these tests:\n" + json.dumps(intent, indent=2)},
        ]
        for _ in range(self.max_turns):
            try:
                reply = await self.llm.act(messages, tools, agent_id="phase2", task_id=self._task,
                                           purpose="tier 3", max_tokens=512)
            except ModelRefused as exc:  # answers that came back unusable were still paid for
                result.usage.add(exc.spent)
                raise
            result.usage.add(reply)
            if not reply.calls:
                result.status, result.message = "failed", f"agent stopped without finishing: {reply.text!r}"
                return
            messages.append(reply.assistant)
            for call in reply.calls:
                if call.name == "finish":
                    result.steps.append({"tool": "finish", "args": call.args, "mode": reply.mode})
                    result.status = "success" if bool(call.args.get("passed")) else "failed"
                    result.message = str(call.args.get("summary", ""))
                    if result.status == "success" and (broken := failed_check(result.steps)):
                        result.status = "failed"
                        result.message = f"the agent said the intent held, but {broken}"
                    return
                outcome = await run(call.name, call.args)
                result.steps.append({"tool": call.name, "args": call.args, "result": outcome, "mode": reply.mode})
                messages.append(self.llm.tool_result(reply, call, outcome))
        result.status, result.message = "failed", f"no verdict after {self.max_turns} turns"


def failed_check(steps: list[dict[str, Any]]) -> str | None:
    """A check whose last try failed, in words; None if every check held in the end.

    The model's ``finish(passed=true)`` is its word; the checks it ran are
    evidence. A scripted model once finished "passed" right after its own
    assert_text had failed on a blank page.
    """
    last: dict[tuple[str, str], bool] = {}
    for step in steps:
        if step.get("tool") == "assert_text":
            args = step.get("args", {})
            last[(str(args.get("selector")), str(args.get("expected")))] = bool(step.get("result", {}).get("ok"))
    for (selector, expected), ok in last.items():
        if not ok:
            return f"its last check that {selector} shows {expected!r} failed"
    return None


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


async def _run_stagehand_tool(session: StagehandSession, page: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    try:
        if name == "goto":
            await page.goto(args["url"])
            return {"ok": True, "title": await page.title()}
        if name == "act":
            done = await session.stagehand.act(str(args["instruction"]), page=page)
            return {"ok": bool(done.data.success), "message": done.data.message[:300]}
        if name == "read":
            return {"ok": True, "text": (await page.locator(args["selector"]).inner_text(timeout=5000))[:2000]}
        if name == "assert_text":
            text = await page.locator(args["selector"]).inner_text(timeout=5000)
            return {"ok": args["expected"] in text, "text": text[:500]}
        return {"ok": False, "error": f"unknown tool {name}"}
    except ModelRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - reported back to the model
        if session.refused is not None:  # the gateway refused Stagehand's own call: the tier stops
            raise session.refused from exc
        said = session.take_error()
        return {"ok": False, "error": said or f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"}
