"""Evolution: generate tests, run them through Phase 2, keep what helps, iterate.

A candidate is kept only if it passes twice (a rerun weeds out flaky
tests) and adds measured coverage. Rounds go on until the measured line
coverage of the targets reaches the target, the budget refuses a call, or
the round limit is hit.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from agents.base import TaskContext, TaskFailed
from agents.coverage_union import CoverageUnion
from agents.generation import Candidate, StrategyError, module_of
from agents.generation import llm as llm_strategy
from agents.llm_gateway import BudgetExceeded, LLMUnavailable
from engine import settings_store


def count_tests(code: str) -> int:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return 0
    return sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
               for n in ast.walk(tree))


class EvolutionAgent:
    agent_type = "evolution"
    capabilities = [{"name": "test_generation", "version": "1.0.0"},
                    {"name": "coverage_driven_search", "version": "1.0.0"}]
    priority = 5

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        p = ctx.task["payload"]
        repo = Path(p["repository"])
        targets: list[str] = p["target_files"]
        goal = float(p.get("coverage_target", 0.85))
        max_rounds = int(p.get("max_rounds", 3))
        strategy = p.get("strategy") or ("llm" if ctx.services.gateway is not None else "search")
        if strategy == "llm" and ctx.services.gateway is None:
            raise TaskFailed("The llm strategy needs a model: set LLM_BASE_URL (and a key), or use search.")
        union = CoverageUnion(targets)
        baseline = (p.get("analysis") or {}).get("baseline")
        kept: list[dict[str, Any]] = []
        failures: list[str] = []
        stop = "round limit"
        rounds = 0
        for round_no in range(1, max_rounds + 1):
            rounds = round_no
            for target in targets:
                if union.rate(target) >= goal:
                    continue
                await ctx.progress(f"Round {round_no}: generating tests for {target} ({strategy})")
                try:
                    candidate = await self._generate(ctx, strategy, repo, target, round_no, union, failures, p)
                except StrategyError as exc:
                    failures.append(str(exc))
                    await ctx.progress(f"Round {round_no}: {exc}")
                    continue
                except (BudgetExceeded, LLMUnavailable) as exc:
                    raise TaskFailed(str(exc)) from None
                verdict = await self._try(ctx, candidate, repo, union)
                if verdict is None:
                    name = self._file_name(target, kept)
                    kept.append({"path": name, "target_file": target, "code": candidate.code,
                                 "origin": candidate.origin, "round": round_no,
                                 "test_count": count_tests(candidate.code)})
                else:
                    failures.append(verdict)
            await ctx.progress(f"Round {round_no}: measured line coverage {union.line_rate:.1%} (target {goal:.0%})",
                               coverage=union.line_rate)
            if union.line_rate >= goal:
                stop = "target reached"
                break
        return {"strategy": strategy, "rounds": rounds, "stop_reason": stop, "files": kept,
                "coverage": union.to_json(), "failures": failures[-10:], "baseline": baseline}

    async def _generate(self, ctx: TaskContext, strategy: str, repo: Path, target: str, round_no: int,
                        union: CoverageUnion, failures: list[str], p: dict[str, Any]) -> Candidate:
        if strategy == "search":
            runner = ctx.services.pynguin
            if runner is None:
                raise StrategyError("the search strategy is not available in this process")
            base = int(p.get("search_time_s", 20))
            allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
            env = None
            if ctx.services.envs is not None:  # built by Observation; found in its cache here
                env = await ctx.services.envs.environment_for(repo, allow_unisolated=allow)
            return await runner.generate(repo, target, search_time_s=base * 2 ** (round_no - 1),
                                         seed=1000 + round_no, allow_unisolated=allow,
                                         site_packages=env.site_packages if env is not None else None)
        candidate = await llm_strategy.generate(
            ctx.services.gateway, agent_id=ctx.agent_id, task_id=ctx.task_id,
            repository_source=(repo / target).read_text(encoding="utf-8"), target_file=target,
            analysis=(p.get("analysis") or {}).get("functions", {}).get(target, []),
            requirements=(p.get("requirements") or {}).get("checklist", []),
            uncovered=sorted(union.files[target].missing), failures=failures,
        )
        ctx.tokens_used += candidate.tokens
        return candidate

    async def _try(self, ctx: TaskContext, candidate: Candidate, repo: Path, union: CoverageUnion) -> str | None:
        """None if kept; else why not."""
        phase2 = ctx.services.phase2
        first = await phase2.execute(candidate.code, repo, [candidate.target_file])
        if first["status"] != "success":
            return f"{candidate.target_file}: candidate {first['status']}: {first.get('error')}"
        again = await phase2.execute(candidate.code, repo, [candidate.target_file])
        if again["status"] != "success":
            return f"{candidate.target_file}: flaky candidate dropped ({again.get('error')})"
        if union.gain(first["coverage"]) == 0:
            return f"{candidate.target_file}: candidate added no coverage"
        union.add(first["coverage"])
        return None

    @staticmethod
    def _file_name(target: str, kept: list[dict[str, Any]]) -> str:
        _, module = module_of(target)
        stem = f"tests/test_generated_{module.replace('.', '_')}"
        taken = {k["path"] for k in kept}
        name, n = f"{stem}.py", 2
        while name in taken:
            name, n = f"{stem}_{n}.py", n + 1
        return name
