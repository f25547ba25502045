"""A Stagehand browser whose model calls go through our gateway (issue 15).

Stagehand (the ``stagehand`` 4.x SDK) finds elements from a page's
accessibility tree with a model. Its local mode runs no server of its own:
it starts Chromium with its extension loaded and asks *us* for every model
answer through a callback. That callback is where the gateway comes in, so
Stagehand's calls use the user's endpoint, are reserved against the daily
budget, counted and priced like every other call (``ModelCaller``).

Where the browser runs:

* no ``STAGEHAND_API_KEY``: Debian's Chromium on this machine (never a
  downloaded one), which reaches sites on 127.0.0.1;
* with the key: a Browserbase-hosted browser (``STAGEHAND_API_URL``
  overrides their API address), for teams that already pay for it. The
  site under test must then be reachable from there.

A session that cannot start says why in a sentence (``StagehandUnavailable``)
so the tier can record it and fall back to our own healer and agent.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine.model_port import ModelCaller, ModelRefused, Tally

# Chromium flags: no crash reporter writing into the user's home, no background traffic.
_CHROMIUM_ARGS = ["--disable-breakpad", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


@dataclass(frozen=True)
class StagehandSettings:
    """Where Stagehand's browser runs; the model is always ours."""

    api_key: str | None = field(default=None, repr=False)  # a Browserbase key: their hosted browser
    api_url: str | None = None  # their API's address; None: Browserbase's default
    chromium: str = "/usr/bin/chromium"

    def backend_for(self, choice: str) -> str:
        """``execution_settings.browser_backend`` resolved: auto is Stagehand when a key is set, else ours."""
        if choice == "auto":
            return "stagehand" if self.api_key else "ours"
        return choice

    @property
    def where(self) -> str:
        if self.api_key:
            return f"a Browserbase browser ({self.api_url or 'api.browserbase.com'})"
        return f"Chromium at {self.chromium}"


class StagehandUnavailable(Exception):
    """Stagehand could not start or went away; the message is a sentence for a person."""


class StagehandSession:
    """``async with StagehandSession(...) as s:`` then ``s.stagehand`` and ``await s.page()``.

    Leaving the block closes Stagehand *and* the browser: ``Stagehand.close``
    alone leaves a launched Chromium running (tried: its processes outlived
    the script).
    """

    def __init__(self, settings: StagehandSettings, llm: ModelCaller, *, purpose: str,
                 task_id: str | None = None) -> None:
        self.settings = settings
        self.llm = llm
        self.purpose = purpose
        self.task_id = task_id
        self.usage = Tally()
        self.refused: ModelRefused | None = None  # the gateway's refusal, kept for the tier's reason
        # Stagehand reports a failed callback as its own terse RPC error ("RPCError: ["): ours, in words.
        self.callback_error: str | None = None
        self.stagehand: Any = None
        self._browser: Any = None

    async def __aenter__(self) -> StagehandSession:
        try:
            # 0.24 s of imports: in a thread, not on the event loop (the first heal of a soak stalled it).
            await asyncio.to_thread(importlib.import_module, "stagehand")
            from stagehand import Stagehand, browserbase, local_browser
        except ImportError as exc:
            raise StagehandUnavailable(f"the stagehand package is not installed ({exc})") from exc
        try:
            if self.settings.api_key:
                kwargs: dict[str, Any] = {"api_key": self.settings.api_key}
                if self.settings.api_url:
                    kwargs["base_url"] = self.settings.api_url
                self._browser = await browserbase.launch(**kwargs)
            else:
                self._browser = await local_browser.launch(
                    headless=True, executable_path=self.settings.chromium, args=_CHROMIUM_ARGS)
            self.stagehand = await Stagehand.create(browser=self._browser, model=self._generate,
                                                    logging={"level": "off"})
        except BaseException as exc:
            await self._close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise StagehandUnavailable(describe_failure(exc, self.settings)) from exc
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.shield(self._close())

    async def page(self) -> Any:
        pages = await self._browser.context.pages()
        return pages[0] if pages else await self._browser.context.new_page()

    async def _close(self) -> None:
        for closer in (self.stagehand, self._browser):
            if closer is None:
                continue
            try:
                await asyncio.wait_for(closer.close(), 15)
            except Exception:  # noqa: BLE001, S110 - closing what may already be gone
                pass
        self.stagehand = self._browser = None

    async def _generate(self, params: Any) -> dict[str, Any]:
        """Stagehand's model call, answered by the gateway."""
        try:
            return await self._answer(params)
        except Exception as exc:
            self.callback_error = str(exc) if isinstance(exc, (ModelRefused, ValueError)) else \
                f"{type(exc).__name__}: {exc}"
            raise

    def take_error(self) -> str | None:
        """The last callback failure, once: what to say instead of Stagehand's RPC error."""
        error, self.callback_error = self.callback_error, None
        return error

    async def _answer(self, params: Any) -> dict[str, Any]:
        schema = getattr(params, "response_format", None)
        structured = getattr(schema, "type", None) == "json_schema"
        if getattr(params, "tools", None):
            raise RuntimeError("Stagehand asked for tool calls (its agent mode); we use observe and act only")
        messages = _openai_messages(params)
        response_format = None
        if structured:
            response_format = {"type": "json_schema", "json_schema": {
                "name": schema.name, "schema": schema.schema_ or {"type": "object"}, "strict": False}}
        try:
            reply = await self.llm.chat(messages, agent_id="phase2", task_id=self.task_id,
                                        purpose=self.purpose, response_format=response_format)
        except ModelRefused as exc:
            self.refused = exc
            raise
        self.usage.add(reply)
        usage = {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens,
                 "total_tokens": reply.tokens}
        if not structured:
            return {"role": "assistant", "content": {"type": "text", "text": reply.text},
                    "output_format": "text", "usage": usage}
        parsed = parse_json_answer(reply.text)
        return {"role": "assistant", "content": {"type": "text", "text": json.dumps(parsed)},
                "output_format": "json_schema", "structured_content": parsed, "usage": usage}


def _openai_messages(params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if getattr(params, "system_prompt", None):
        out.append({"role": "system", "content": params.system_prompt})
    for message in params.messages:
        blocks = message.content if isinstance(message.content, list) else [message.content]
        parts: list[dict[str, Any]] = []
        for block in blocks:
            inner = getattr(block, "root", block)
            if inner.type == "text":
                parts.append({"type": "text", "text": inner.text})
            elif inner.type == "image":
                parts.append({"type": "image_url", "image_url": {
                    "url": f"data:{getattr(inner, 'media_type', None) or 'image/png'};base64,{inner.data}"}})
        role = str(getattr(message.role, "value", message.role))
        if all(p["type"] == "text" for p in parts):
            out.append({"role": role, "content": "\n".join(p["text"] for p in parts)})
        else:
            out.append({"role": role, "content": parts})
    return out


def parse_json_answer(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer (a small model may wrap it in a code fence or prose)."""
    cleaned = _FENCE.sub("", text.strip())
    try:
        value = json.loads(cleaned)
    except json.JSONDecodeError:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        if start < 0 or end <= start:
            raise ValueError(f"the model's answer is not JSON: {text[:200]!r}") from None
        value = json.loads(cleaned[start:end + 1])
    if not isinstance(value, dict):
        raise ValueError(f"the model's answer is JSON but not an object: {text[:200]!r}")
    return value


def describe_failure(exc: BaseException, settings: StagehandSettings) -> str:
    """Why Stagehand could not start, in words that say what to change.

    The SDK wraps Browserbase's errors ("Failed to upload the Stagehand
    extension to Browserbase"); the cause says what really happened.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    names = {type(e).__name__ for e in chain}
    where = settings.api_url or "api.browserbase.com"
    status = next((getattr(e, "status_code", None) for e in chain if getattr(e, "status_code", None)), None)
    if names & {"AuthenticationError", "PermissionDeniedError"}:
        return (f"Browserbase at {where} refused STAGEHAND_API_KEY (HTTP {status}): check the key, or unset it "
                "to run Stagehand on this machine's Chromium")
    if "APIConnectionError" in names or "APITimeoutError" in names:
        return (f"Browserbase at {where} could not be reached: check STAGEHAND_API_URL and the network, or unset "
                "STAGEHAND_API_KEY to run Stagehand on this machine's Chromium")
    if status is not None:
        return f"Browserbase at {where} answered HTTP {status}: {_first_line(chain[-1])}"
    if isinstance(exc, FileNotFoundError) or "exited before" in str(exc) or not settings.api_key and \
            isinstance(exc, (OSError, RuntimeError)) and "chrom" in str(exc).lower():
        return f"Stagehand could not start Chromium at {settings.chromium}: {_first_line(exc)}"
    if isinstance(exc, TimeoutError):
        return f"Stagehand did not start within its 60 s limit on {settings.where}"
    return f"Stagehand could not start on {settings.where}: {type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
