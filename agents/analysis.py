"""Analysis: functions and branches of the targets, and what existing tests cover."""

from __future__ import annotations

import ast
import asyncio
import sys
from pathlib import Path
from typing import Any

from agents.base import TaskContext
from agents.baseline import existing_coverage
from agents.repository_here import interpreter_here, repository_here
from engine import settings_store
from engine.python_source import parse_source

_BRANCHING = (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.IfExp, ast.BoolOp, ast.Match, ast.comprehension)


def describe(source: str) -> list[dict[str, Any]]:
    tree = parse_source(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            branches = sum(isinstance(n, _BRANCHING) for n in ast.walk(node))
            out.append({
                "name": node.name, "line": node.lineno, "end_line": node.end_lineno,
                "args": [a.arg for a in node.args.args], "branches": branches,
                "raises": sorted({getattr(getattr(n.exc, "func", n.exc), "id", "?")
                                  for n in ast.walk(node) if isinstance(n, ast.Raise) and n.exc is not None}),
                "docstring": ast.get_docstring(node) or "",
            })
    return sorted(out, key=lambda f: f["line"])


class AnalysisAgent:
    agent_type = "analysis"
    capabilities = [{"name": "static_analysis", "version": "1.0.0"},
                    {"name": "baseline_coverage", "version": "1.0.0"}]
    priority = 5

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        payload = ctx.task["payload"]
        repo = await repository_here(payload["repository"], payload.get("repository_url"), ctx.services)
        interpreter = await interpreter_here(payload.get("interpreter"), repo, ctx.services)
        targets: list[str] = payload["target_files"]
        functions = await asyncio.to_thread(_describe_all, repo, targets)  # parsing a large file takes a while
        await ctx.progress(f"Parsed {sum(len(v) for v in functions.values())} functions")
        # The repository's tests, and its doctests where its pytest runs them (agents/baseline.py decides).
        allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
        baseline = await existing_coverage(repo, targets, payload.get("test_files") or [],
                                           python=interpreter or sys.executable, allow_unisolated=allow)
        if baseline is not None:
            await ctx.progress(f"Existing tests cover {baseline['line_rate']:.0%} of the target lines")
        return {"functions": functions, "baseline": baseline}


def _describe_all(repo: Path, targets: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each target's functions, or why it could not be read. Blocking."""
    functions: dict[str, list[dict[str, Any]]] = {}
    for target in targets:
        try:
            functions[target] = describe((repo / target).read_text(encoding="utf-8"))
        except SyntaxError as exc:
            functions[target] = [{"error": f"does not parse: line {exc.lineno}: {exc.msg}"}]
        except (OSError, UnicodeDecodeError) as exc:
            functions[target] = [{"error": f"cannot be read: {exc}"}]
    return functions
