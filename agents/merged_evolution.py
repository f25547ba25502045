"""One evolve result from a whole-repository request's per-module evolve steps.

Each module of a whole-repository request is its own evolve task, so the evolution workers
that are up take them at once (agents/orchestration.py). The report step reads one result:
this joins them. Every module is listed with its coverage, also one whose step failed (at
what the repository's own tests cover, with the reason in ``failures``); the totals are
statements covered over statements of all the modules, never a mean of rates. A test file
name two modules share (``pkg/a/util.py`` and ``pkg/b/util.py``) is made unique.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agents.keep_per_test import collect_test_keys, keep_only
from agents.kept_together import Together
from agents.whole_repository import BudgetPlan
from engine.python_source import parse_source


@dataclass(frozen=True)
class ModuleOutcome:
    target: str
    result: dict[str, Any] | None  # the evolve step's result, or None when it failed
    error: str | None = None
    size: tuple[int, int] = (0, 0)  # (statements, branches): the module's row when its step failed


def merged(parts: list[ModuleOutcome], plan: BudgetPlan, goal: float,
           baseline: dict[str, Any] | None) -> dict[str, Any]:
    """The evolve result of the whole request (the shape ``EvolutionAgent.handle`` returns)."""
    files: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    generators: list[dict[str, Any]] = []
    kills = [0, 0]
    seen_tests: set[str] = set()  # each kept test's body, once over the modules' files
    timed_out = False
    why_not: str | None = None  # a module's own reason for no score (the request asked for none, the sandbox)
    for part in parts:
        result = part.result
        if result is None:
            failures.append(f"{part.target}: {part.error}")
            rows.append(_row_without_tests(part, baseline))
            continue
        rows.extend(f for f in result["coverage"]["files"] if f["path"] == part.target)
        failures.extend(result.get("failures") or [])
        generators.extend(result.get("generators") or [])
        taken = {f["path"] for f in files}
        for f in result["files"]:
            code = _without_repeats(f["code"], seen_tests)
            if code != f["code"]:
                if not (keys := collect_test_keys(code)):
                    continue  # every test of it is in an earlier module's file already
                f = {**f, "code": code, "test_count": len(keys)}
            files.append({**f, "path": _unique(f["path"], taken)})
            taken.add(files[-1]["path"])
        score = result.get("mutation") or {}
        why_not = why_not or (score.get("error") if score.get("score") is None else None)
        if isinstance(score.get("killed"), int) and isinstance(score.get("total"), int):
            kills[0] += score["killed"]
            kills[1] += score["total"]
            timed_out |= bool(score.get("timed_out"))
    failures.extend(f"{t}: not searched: the budget allowed no share for it" for t in plan.skipped)
    covered, total = sum(r["lines_covered"] for r in rows), sum(r["lines_total"] for r in rows)
    arcs, branches = sum(r["branches_covered"] for r in rows), sum(r["branches_total"] for r in rows)
    line_rate = covered / total if total else 0.0
    done = [p for p in parts if p.result is not None]
    outcome = "complete" if line_rate >= goal and not plan.skipped else "partial"
    reason = (f"{len(done)} of {len(parts)} module(s) got tests; {line_rate:.0%} of their "
              f"{total} statements covered (target {goal:.0%})")
    if plan.skipped:
        reason += f"; {len(plan.skipped)} module(s) not searched (budget)"
    return {
        "strategy": next((p.result["strategy"] for p in done if p.result), "search"),
        "rounds": max((p.result["rounds"] for p in done if p.result), default=0),
        "stop_reason": f"whole repository: {len(parts)} module(s), each its own evolve step; {plan.note}",
        "files": files,
        "coverage": {"line_rate": line_rate, "branch_rate": arcs / branches if branches else 1.0 if arcs else 0.0,
                     "files": rows},
        "failures": failures,
        "baseline": baseline,
        "outcome": outcome,
        "reason": reason,
        "generators": generators,
        "mutation": {"score": kills[0] / kills[1] if kills[1] else None, "killed": kills[0], "total": kills[1],
                     "timed_out": timed_out,
                     "error": None if kills[1] else why_not or "no module's score was measured"},
        "not_searched": list(plan.skipped),
        "modules": [{"target": p.target, "outcome": (p.result or {}).get("outcome", "failed"),
                     "error": p.error} for p in parts],
    }


def held_together(result: dict[str, Any], together: Together, goal: float) -> dict[str, Any]:
    """``result`` (``merged``'s) after its files ran together (agents/kept_together.py): the tests that failed
    there gone and named, and, when the run measured, the coverage the files reach together (the figure a
    user's own ``coverage run -m pytest`` over them and the repository's tests gives)."""
    files = []
    for f in result["files"]:
        code = together.files.get(f["path"])
        if code is not None:
            files.append(f if code == f["code"] else {**f, "code": code, "test_count": len(collect_test_keys(code))})
    out = {**result, "files": files, "failures": [*together.dropped, *result["failures"]], "together": together.note}
    if together.coverage is not None:
        rows = together.coverage["files"]
        line_rate = together.coverage["line_rate"]
        out["coverage"] = {"line_rate": line_rate, "branch_rate": together.coverage["branch_rate"], "files": rows}
        done = sum(1 for m in result["modules"] if m["error"] is None)
        total = sum(r["lines_total"] for r in rows)
        skipped = result.get("not_searched") or []
        out["reason"] = (f"{done} of {len(result['modules'])} module(s) got tests; {line_rate:.0%} of their {total} "
                         f"statements covered, the kept files run together (target {goal:.0%})"
                         + (f"; {len(skipped)} module(s) not searched (budget)" if skipped else ""))
        out["outcome"] = "complete" if line_rate >= goal and not skipped else "partial"
    return out


def _without_repeats(code: str, seen: set[str]) -> str:
    """``code`` without the tests an earlier module's file holds already, as they stand (a README example is
    kept for each module it covers: run once, it covers them all; the files run together after this,
    agents/kept_together.py, and the repository's figure is that run's). Adds its own tests to ``seen``."""
    try:
        tree = parse_source(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    repeated: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            body = "|".join(ast.dump(n) for n in [*node.decorator_list, node.args, *node.body])  # the name aside
            if body in seen:
                repeated.append(node.name)
            seen.add(body)
    if not repeated:
        return code
    return keep_only(code, [k for k in collect_test_keys(code) if k not in repeated])


def _row_without_tests(part: ModuleOutcome, baseline: dict[str, Any] | None) -> dict[str, Any]:
    """A failed module's coverage row: what the repository's own tests cover of it, else nothing of its size."""
    for f in (baseline or {}).get("files", []):
        if f.get("path") == part.target:
            return f
    statements, branches = part.size
    return {"path": part.target, "line_rate": 0.0, "branch_rate": 0.0, "lines_covered": 0, "lines_total": statements,
            "branches_covered": 0, "branches_total": branches, "missing_lines": [], "executed_lines": [],
            "executed_branches": []}


def _unique(path: str, taken: set[str]) -> str:
    if path not in taken:
        return path
    p = PurePosixPath(path)
    n = 2
    while str(p.with_name(f"{p.stem}_{n}{p.suffix}")) in taken:
        n += 1
    return str(p.with_name(f"{p.stem}_{n}{p.suffix}"))
