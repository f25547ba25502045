"""Requirements: the user's words and the code's docstrings, as a checklist."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

from agents.base import TaskContext
from agents.repository_here import repository_here
from engine.python_source import parse_source


def _items_from_text(text: str) -> list[str]:
    pieces = re.split(r"[\n;]+|(?<=[.!?])\s+", text or "")
    return [p.strip(" -*\t.") for p in pieces if len(p.strip(" -*\t.")) > 3]


class RequirementsAgent:
    agent_type = "requirements"
    capabilities = [{"name": "requirements_extraction", "version": "1.0.0"}]
    priority = 5

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        payload = ctx.task["payload"]
        repo = await repository_here(payload["repository"], payload.get("repository_url"), ctx.services)
        checklist: list[dict[str, str]] = []
        for text in _items_from_text(payload.get("requirements", "")):
            checklist.append({"id": f"R{len(checklist) + 1}", "text": text, "source": "user"})
        for target, name, text in await asyncio.to_thread(_documented_behaviours, repo,
                                                          list(payload.get("target_files", []))):
            checklist.append({"id": f"R{len(checklist) + 1}", "text": text, "source": f"docstring:{target}:{name}"})
        earlier: list[str] = []
        memory = ctx.services.memory
        conversation = ctx.task.get("conversation_id")
        if memory is not None and conversation:
            recalled = await memory.recall_notes(payload.get("requirements") or "requirements",
                                                 conversation_id=conversation, agent_id=ctx.agent_id)
            if recalled.problem:  # a vector store outage costs the recall, never the request: said
                await ctx.progress(recalled.problem)
            earlier = [n.content for n in recalled.notes]
            if payload.get("requirements"):
                await memory.remember(ctx.agent_id, f"User requirements: {payload['requirements']}",
                                      conversation_id=conversation, importance=0.8,
                                      metadata={"task_id": ctx.task_id, "kind": "requirements"},
                                      effect_key=ctx.effect_key("memory"))
        await ctx.progress(f"{len(checklist)} behaviours to test" + (f", {len(earlier)} notes recalled" if earlier else ""))
        return {"checklist": checklist, "recalled": earlier}


def _documented_behaviours(repo: Path, targets: list[str]) -> list[tuple[str, str, str]]:
    """(target, function, behaviour) for each public function, from its docstring. Blocking (parses)."""
    found = []
    for target in targets:
        try:
            tree = parse_source((repo / target).read_text(encoding="utf-8"))
        except (SyntaxError, OSError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                doc = (ast.get_docstring(node) or "").strip().split("\n\n")[0].replace("\n", " ")
                found.append((target, node.name,
                              f"{node.name}: {doc}" if doc else f"{node.name} behaves correctly for typical and edge inputs"))
    return found
