"""The messages and actions as the wire carries them: what is sent back, and tool calls read from JSON text.

Split from agents/llm_gateway.py (budget, retries, streaming); these are pure functions of the messages. A
model without tool calling answers in JSON (``{"tool": ..., "args": {...}}``), read here as untrusted text.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from engine.model_port import ToolCall


def assistant_message(content: str | None, tool_calls: list[Any]) -> dict[str, Any]:
    """The answer as a message to send back: only the standard fields (a stream's accumulated
    message carries extras, such as ``index``, a strict server would refuse)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [{"id": c.id, "type": "function",
                                  "function": {"name": c.function.name, "arguments": c.function.arguments}}
                                 for c in tool_calls]
    return message


def parsed_arguments(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_unparsed": raw}


def estimate_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> int:
    """About four characters a token: enough for a reservation that is settled after."""
    chars = sum(len(json.dumps(m)) for m in messages) + (len(json.dumps(tools)) if tools else 0)
    return chars // 4 + 16


# -- actions as JSON ---------------------------------------------------------------------------------

def action_format(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON schema admitting exactly one of the tools with its arguments."""
    options = [{"type": "object", "properties": {"tool": {"type": "string", "enum": [t["function"]["name"]]},
                                                 "args": t["function"]["parameters"]},
                "required": ["tool", "args"]} for t in tools]
    return {"type": "json_schema", "json_schema": {"name": "action", "schema": {"anyOf": options}}}


def json_messages(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation with the tools described in words and one JSON object asked for."""
    described = "\n".join(
        f"- {t['function']['name']}({', '.join(t['function']['parameters'].get('properties', {}))}): "
        f"{t['function'].get('description', '')}" for t in tools)
    instruction = ("\n\nAnswer with exactly one JSON object {\"tool\": <name>, \"args\": {...}} and nothing else. "
                   f"Tools:\n{described}")
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content') or ''}{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction.strip()})
    return out


_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def calls_in_text(text: str, names: list[str]) -> tuple[ToolCall, ...]:
    """An action written as JSON: ``{"tool"|"name": ..., "args"|"arguments"|"parameters": {...}}``,
    bare or in a code fence, one object or a list of them."""
    match = _OBJECT.search(text or "")
    candidates: list[Any] = []
    if match:
        raw = match.group(0)
        try:
            candidates = [json.loads(raw)]
        except ValueError:
            try:
                candidates = json.loads(f"[{raw}]")
            except ValueError:
                return ()
    if candidates and isinstance(candidates[0], list):
        candidates = candidates[0]
    calls = []
    for n, item in enumerate(candidates):
        if not isinstance(item, dict):
            continue
        name = item.get("tool") or item.get("name") or item.get("function")
        args = item.get("args", item.get("arguments", item.get("parameters", {})))
        if isinstance(args, str):
            args = parsed_arguments(args)
        if name in names and isinstance(args, dict):
            calls.append(ToolCall(f"json-{int(time.time() * 1000)}-{n}", name, args))
    return tuple(calls)
