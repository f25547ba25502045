"""Evolution: generate tests, run them through Phase 2, keep what helps, iterate.

A candidate is kept only if it passes twice (a rerun weeds out flaky
tests) and adds measured coverage. Rounds go on until the measured line
coverage of the targets reaches the target, the budget refuses a call, or
the round limit is hit.
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

from agents.base import TaskContext, TaskFailed
from agents.coverage_union import CoverageUnion
from agents.generation import Candidate, StrategyError, doctests, module_of
from agents.generation import llm as llm_strategy
from agents.keep_per_test import collect_test_keys, keep_only, passing, select_minimal
from agents.llm_gateway import BudgetExceeded, LLMUnavailable
from agents.plan import GenerationPlan, PlanError
from app.errors import AppError
from engine import settings_store
from engine.interpreter import choose_interpreter
from engine.mutation import mutation_score

# Pynguin gets this share of a target's slice; the rest is its start-up and the keep-per-test runs.
_SEARCH_SHARE = 0.7
_MIN_SEARCH_S = 3.0


def _same_failure(reason: str, earlier: list[str]) -> bool:
    """The same failure as before, ignoring numbers (seeds, times, line numbers)."""
    shape = re.sub(r"\d+", "#", reason)
    return any(re.sub(r"\d+", "#", e) == shape for e in earlier)


def actionable(failures: list[str]) -> str:
    """One line a person can act on, from what went wrong (a missing module first)."""
    for failure in reversed(failures):
        missing = re.search(r"No module named '?([\w.]+)'?", failure)
        if missing:
            return (f"No module named {missing.group(1)}: declare it in the repository's pyproject.toml "
                    "(or requirements.txt) so it is installed for the tests")
    return failures[-1] if failures else "the generators produced nothing"


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
        try:
            plan = GenerationPlan.of(p)
        except PlanError as exc:
            raise TaskFailed(str(exc)) from None
        goal, max_rounds = plan.coverage_target, plan.max_rounds
        strategy = plan.strategy or ("llm" if ctx.services.gateway is not None else "search")
        if strategy == "llm" and ctx.services.gateway is None:
            raise TaskFailed("The llm strategy needs a model: set LLM_BASE_URL (and a key), or use search.")
        union = CoverageUnion(targets)
        baseline = (p.get("analysis") or {}).get("baseline")
        if baseline and baseline.get("line_rate", 0) >= goal and not plan.generate_anyway:
            note = (f"The existing tests already cover {baseline['line_rate']:.0%} of the target lines "
                    f"(target {goal:.0%}); nothing generated.")
            await ctx.progress(note)
            return {"strategy": strategy, "rounds": 0, "stop_reason": "target already met by existing tests",
                    "files": [], "coverage": union.to_json(), "failures": [], "baseline": baseline,
                    "outcome": "met", "reason": note}
        kept: list[dict[str, Any]] = []
        failures: list[str] = []
        stuck: dict[str, str] = {}  # target -> the failure it keeps meeting: no round repeats it
        generators: list[dict[str, Any]] = []  # what each generator produced, for the result
        stop = "round limit"
        rounds = 0
        loop = asyncio.get_running_loop()
        # The search budget bounds the whole request, not one Pynguin run (issue 11).
        deadline = loop.time() + plan.search_time_s
        for round_no in range(1, max_rounds + 1):
            rounds = round_no
            todo = [t for t in targets if union.rate(t) < goal and t not in stuck]
            if not todo:
                stop = "target reached" if union.line_rate >= goal else "every target failed the same way twice"
                rounds -= 1
                break
            if strategy == "search" and deadline - loop.time() < _MIN_SEARCH_S:
                stop = "search budget spent"
                rounds -= 1
                break
            for index, target in enumerate(todo):
                p = {**p, "_search_s": max(_MIN_SEARCH_S, (deadline - loop.time()) / (len(todo) - index)
                                            * _SEARCH_SHARE)}
                await ctx.progress(f"Round {round_no}: generating tests for {target} ({strategy})")
                try:
                    candidates, errors = await self._portfolio(ctx, strategy, repo, target, round_no, union,
                                                               failures, p)
                except (BudgetExceeded, LLMUnavailable) as exc:
                    raise TaskFailed(str(exc)) from None
                for generator, error in errors:
                    generators.append({"generator": generator, "target_file": target, "round": round_no,
                                       "kept_tests": 0, "error": error})
                    await ctx.progress(f"Round {round_no}: {generator}: {error}")
                if not candidates and errors:
                    # Every generator failed; the same failure twice means another round cannot help.
                    reason = errors[-1][1]
                    if _same_failure(reason, failures):
                        stuck[target] = reason
                        await ctx.progress(f"Round {round_no}: {target}: same failure again; not retrying it")
                    failures.extend(error for _, error in errors)
                    continue
                for generator, candidate in candidates:
                    code, note = await self._try(ctx, candidate, repo, union)
                    generators.append({"generator": generator, "target_file": target, "round": round_no,
                                       "kept_tests": count_tests(code) if code else 0,
                                       "error": None if code else note})
                    if code is not None:
                        name = self._file_name(target, kept)
                        kept.append({"path": name, "target_file": target, "code": code,
                                     "origin": candidate.origin, "round": round_no,
                                     "test_count": count_tests(code), "note": note, "generator": generator})
                        await ctx.progress(f"Round {round_no}: {generator}: {note}")
                    else:
                        failures.append(note)
            await ctx.progress(f"Round {round_no}: measured line coverage {union.line_rate:.1%} (target {goal:.0%})",
                               coverage=union.line_rate)
            if union.line_rate >= goal:
                stop = "target reached"
                break
        if not kept:
            raise TaskFailed(f"No test kept: {actionable(failures)}")
        outcome, reason = "complete", f"target {goal:.0%} reached"
        if union.line_rate < goal:
            outcome = "partial"
            reason = (f"measured line coverage {union.line_rate:.0%} is below the target {goal:.0%} after "
                      f"{rounds} round(s) ({stop})" + (f"; last problem: {failures[-1]}" if failures else ""))
        mutation = await self._mutation(ctx, repo, targets, kept, p)
        return {"strategy": strategy, "rounds": rounds, "stop_reason": stop, "files": kept,
                "coverage": union.to_json(), "failures": failures[-10:], "baseline": baseline,
                "outcome": outcome, "reason": reason, "generators": generators, "mutation": mutation}

    async def _mutation(self, ctx: TaskContext, repo: Path, targets: list[str], kept: list[dict[str, Any]],
                        p: dict[str, Any]) -> dict[str, Any]:
        """The kept suite's mutation score, time-boxed to a fifth of the search budget (15-120 s)."""
        box = min(120.0, max(15.0, 0.2 * GenerationPlan.of(p).search_time_s))
        await ctx.progress(f"Measuring the mutation score of the kept tests (at most {box:.0f} s)…")
        allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
        python = p.get("interpreter") or choose_interpreter(None)
        try:
            score = await mutation_score(repo, targets, {k["path"]: k["code"] for k in kept}, python=python,
                                         time_box_s=box, allow_unisolated=allow)
        except AppError as exc:  # the sandbox refused: coverage still stands
            return {"score": None, "error": str(exc)}
        if score.score is not None:
            await ctx.progress(f"Mutation score {score.score:.0%} ({score.killed} of {score.total} mutants killed)")
        return score.to_json()

    async def _portfolio(self, ctx: TaskContext, strategy: str, repo: Path, target: str, round_no: int,
                         union: CoverageUnion, failures: list[str], p: dict[str, Any],
                         ) -> tuple[list[tuple[str, Candidate]], list[tuple[str, str]]]:
        """Every generator of this round at once: (name, candidate) pairs and (name, error) pairs.

        One generator crashing or finding nothing never ends the request
        while another has produced something. Round 1 adds the module's
        docstring examples (free); search runs two Pynguin configurations
        side by side (the machine has the cores; each is its own process).
        """
        jobs: dict[str, Any] = {}
        if round_no == 1:
            jobs["doctest"] = asyncio.to_thread(doctests.generate, repo, target)
        if strategy == "search":
            runner = ctx.services.pynguin
            if runner is None:
                return [], [("pynguin", "the search strategy is not available in this process")]
            seconds = int(p.get("_search_s") or GenerationPlan.of(p).search_time_s)
            allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
            env = None
            if ctx.services.envs is not None:  # built by Observation; found in its cache here
                env = await ctx.services.envs.environment_for(repo, allow_unisolated=allow)
            site = env.site_packages if env is not None else None
            for algorithm, seed in (("DYNAMOSA", 1000 + round_no), ("MIO", 2000 + round_no)):
                jobs[f"pynguin {algorithm.lower()} seed {seed}"] = runner.generate(
                    repo, target, search_time_s=seconds, seed=seed, allow_unisolated=allow,
                    site_packages=site, algorithm=algorithm)
        else:
            jobs["llm"] = self._llm(ctx, repo, target, union, failures, p)
        results = await asyncio.gather(*jobs.values(), return_exceptions=True)
        candidates, errors = [], []
        for name, result in zip(jobs, results, strict=True):
            if isinstance(result, (BudgetExceeded, LLMUnavailable)):
                raise result
            if isinstance(result, StrategyError):
                errors.append((name, str(result)))
            elif isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                errors.append((name, f"{type(result).__name__}: {result}"))
            else:
                candidates.append((name, result))
        return candidates, errors

    async def _llm(self, ctx: TaskContext, repo: Path, target: str, union: CoverageUnion, failures: list[str],
                   p: dict[str, Any]) -> Candidate:
        candidate = await llm_strategy.generate(
            ctx.services.gateway, agent_id=ctx.agent_id, task_id=ctx.task_id,
            repository_source=(repo / target).read_text(encoding="utf-8"), target_file=target,
            analysis=(p.get("analysis") or {}).get("functions", {}).get(target, []),
            requirements=(p.get("requirements") or {}).get("checklist", []),
            uncovered=sorted(union.files[target].missing), failures=failures,
        )
        ctx.tokens_used += candidate.tokens
        return candidate

    async def _try(self, ctx: TaskContext, candidate: Candidate, repo: Path,
                   union: CoverageUnion) -> tuple[str | None, str]:
        """Keep per test: (the kept code, a note) or (None, why nothing was kept).

        Run 1 finds the passing tests; run 2 (the passing ones only) weeds out
        the flaky and gives each test's coverage; the fewest tests holding the
        gain are chosen; run 3 checks that file as it will be written.
        """
        phase2 = ctx.services.phase2
        target = candidate.target_file
        # Parsing and set cover can take a while on a 1,500-line file: off the loop, like all CPU work.
        all_keys = await asyncio.to_thread(collect_test_keys, candidate.code)
        if not all_keys:
            return None, f"{target}: the candidate has no test functions"
        first = await phase2.execute(candidate.code, repo, [target])
        ok = passing(first.get("tests") or []) & set(all_keys)
        if not ok:
            return None, f"{target}: no test of the candidate passed ({first.get('error') or first['status']})"
        code = await asyncio.to_thread(keep_only, candidate.code, ok) if len(ok) < len(all_keys) else candidate.code
        second = await phase2.execute(code, repo, [target])
        steady = [k for k in all_keys if k in ok and k in passing(second.get("tests") or [])]
        chosen = await asyncio.to_thread(select_minimal, second.get("per_test_coverage") or {}, union, steady)
        if not chosen:
            why = "added no coverage" if steady else "its passing tests were flaky on a rerun"
            return None, f"{target}: candidate {why}"
        code = await asyncio.to_thread(keep_only, code, chosen)
        final = await phase2.execute(code, repo, [target])
        if final["status"] != "success":
            return None, f"{target}: the kept tests did not pass together ({final.get('error')})"
        union.add(final["coverage"])
        dropped_failing = len(all_keys) - len(ok)
        dropped_flaky = len(ok) - len(steady)
        note = (f"kept {len(chosen)} of {len(all_keys)} tests ({dropped_failing} failing, {dropped_flaky} flaky, "
                f"{len(steady) - len(chosen)} adding no coverage dropped)")
        return code, note

    @staticmethod
    def _file_name(target: str, kept: list[dict[str, Any]]) -> str:
        _, module = module_of(target)
        stem = f"tests/test_generated_{module.replace('.', '_')}"
        taken = {k["path"] for k in kept}
        name, n = f"{stem}.py", 2
        while name in taken:
            name, n = f"{stem}_{n}.py", n + 1
        return name
