"""Evolution: generate tests, run them through Phase 2, keep what helps, iterate.

A candidate is kept only if it passes twice (a rerun weeds out flaky
tests) and adds measured coverage. Rounds go on until the measured line
coverage of the targets reaches the target, the budget refuses a call, or
the round limit is hit.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from agents.base import TaskContext, TaskFailed
from agents.candidate_keep import Tried, keep_candidate
from agents.coverage_union import CoverageUnion, measured_again, still_covers
from agents.evolve_task import EvolveTask
from agents.failure_text import actionable, same_failure
from agents.freed_core import FreedCore
from agents.generation import (
    StrategyError,
    authored_examples,
    module_of,
    readme_examples,
)
from agents.generation import llm as llm_strategy
from agents.llm_job import LLMJob, llm_job, model_streaming
from agents.mutation_gate import AS_WRITTEN, gate
from agents.one_file_per_target import one_file_per_target
from agents.repository_here import interpreter_here, repository_here
from agents.wall_budget import (
    AFTER_SEARCH_S,
    PYNGUIN_OVERHEAD_S,
    WALL_FACTOR,
    wall_spent_note,
)
from engine import settings_store
from engine.errors import AppError
from engine.interpreter import choose_interpreter
from engine.model_port import ModelRefused
from engine.python_source import parse_source

# Without a due time (a whole repository's module) a target's slice of the search budget is all search, as
# Pynguin alone module by module spends it: its start-up and the keep-per-test runs come on top (a 0.75 share
# left the product 90 s of search against Pynguin's 120 s on the whole-repository bench).
_MIN_SEARCH_S = 3.0


def _pynguin_configurations(round_no: int, *, with_crosshair: bool) -> list[tuple[str, int]]:
    """(algorithm, seed) of the Pynguin runs of a round: one per core that CrossHair leaves free.

    Each run is a process searching for a fixed wall time, so two of them
    on one core each get half the search. On this 2-core machine
    (bench/generation.py, 60 s, six modules) DYNAMOSA + MIO + CrossHair
    reached 1.15x Pynguin alone's mean line coverage in 1.27x the budget
    (one module took 164 s); DYNAMOSA + CrossHair reached the same 1.15x
    (branch 1.30x) in 0.95x the budget. MIO, with another seed, comes in
    a later round when the cores are busy.
    """
    free = max(1, (os.cpu_count() or 1) - (1 if with_crosshair else 0))
    runs = [("DYNAMOSA", 1000 + round_no), ("MIO", 2000 + round_no)]
    if free == 1 and round_no % 2 == 0:
        runs.reverse()
    return runs[:max(1, min(free, len(runs)))]


def count_tests(code: str) -> int:
    try:
        tree = parse_source(code)
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
        task = EvolveTask.of(ctx.task["payload"])
        # Another pod's checkout is not on this one's disk: the same repository checked out here (a cluster).
        repo_here = await repository_here(task.repository, task.request.repository_url, ctx.services)
        task = dataclasses.replace(task, repository=repo_here,
                                   interpreter=await interpreter_here(task.interpreter, repo_here, ctx.services))
        plan = task.request
        repo, targets = task.repository, task.target_files
        goal, max_rounds = plan.coverage_target, plan.max_rounds
        strategy = plan.strategy or ("llm" if ctx.services.gateway is not None else "search")
        if strategy == "llm" and ctx.services.gateway is None:
            raise TaskFailed("The llm strategy needs a model: set LLM_BASE_URL (and a key), or use search.")
        union = await CoverageUnion.sized(repo, targets)
        # The repository's own tests first (agents/baseline.py): generated tests are kept for what they add.
        baseline = union.start_from(task.baseline)
        # Asked to generate anyway: every target below 100 % is searched (there is nothing to add to one at 100 %).
        searched_below = 1.0 if plan.generate_anyway else goal
        if baseline is not None and union.line_rate >= goal and (not plan.generate_anyway or union.line_rate >= 1.0):
            note = (f"The existing tests already cover {union.line_rate:.0%} of the target lines "
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
        halted: ModelRefused | None = None
        rounds = 0
        loop = asyncio.get_running_loop()
        # The search budget bounds the whole request, not one Pynguin run (issue 11).
        deadline = loop.time() + plan.search_time_s
        for round_no in range(1, max_rounds + 1):
            rounds = round_no
            todo = [t for t in targets if union.rate(t) < searched_below and t not in stuck]
            if not todo:
                stop = "target reached" if union.line_rate >= goal else "every target failed the same way twice"
                rounds -= 1
                break
            if strategy == "search" and deadline - loop.time() < _MIN_SEARCH_S:
                stop = "search budget spent"
                rounds -= 1
                break
            if (strategy == "search" and round_no > 1 and task.wall is not None
                    and task.wall.left_s() < _MIN_SEARCH_S + PYNGUIN_OVERHEAD_S + AFTER_SEARCH_S):
                stop = f"the result is due ({WALL_FACTOR}x the search time)"
                rounds -= 1
                break
            for index, target in enumerate(todo):
                # This target's share of what is left of the request's search budget (GenerateRequest.search_time_s),
                # cut so the result is on time when the request has a due time (agents/wall_budget.py).
                search_s = (deadline - loop.time()) / (len(todo) - index)
                search_s = max(_MIN_SEARCH_S, search_s if task.wall is None else task.wall.search_s(
                    search_s, mutation=plan.mutation_score, targets_left=len(todo) - index))
                await ctx.progress(f"Round {round_no}: generating tests for {target} ({strategy})",
                                   target_file=target, round=round_no, search_budget_s=plan.search_time_s)
                # A README example kept for an earlier target is not kept again for this one (one file each).
                shown = await asyncio.to_thread(readme_examples.shown_in, [k["code"] for k in kept
                                                                          if "readme" in k["origin"]])
                tried, errors, halt = await self._portfolio(ctx, strategy, task, target, round_no, union,
                                                            failures, search_s, shown)
                for generator, error, seconds in errors:
                    generators.append({"generator": generator, "target_file": target, "round": round_no,
                                       "kept_tests": 0, "error": error, "seconds": round(seconds, 1)})
                    await ctx.progress(f"Round {round_no}: {generator}: {error}", target_file=target, round=round_no,
                                       generator=generator, kept=0, seconds=round(seconds, 1))
                if not tried and errors:
                    # Every generator failed; the same failure twice means another round cannot help.
                    reason = errors[-1][1]
                    if same_failure(reason, failures):
                        stuck[target] = reason
                        await ctx.progress(f"Round {round_no}: {target}: same failure again; not retrying it")
                    failures.extend(error for _, error, _ in errors)
                    continue
                for one in tried:
                    # Parsing a long file is CPU work: off the loop (a 183 ms stall in the soak was a parse here).
                    n_kept = await asyncio.to_thread(count_tests, one.code) if one.code else 0
                    generators.append({"generator": one.generator, "target_file": target, "round": round_no,
                                       "kept_tests": n_kept,
                                       "error": None if one.code else one.note, "seconds": round(one.seconds, 1),
                                       **({"steps": one.steps} if one.steps else {})})
                    if one.flaky:  # dropped and named: the user would have met them failing
                        failures.append(f"{target}: {', '.join(one.flaky)} dropped as flaky (failed a rerun, "
                                        "reversed or alone: depends on another test or on chance)")
                    if one.code is not None:
                        name = self._file_name(target, kept)
                        kept.append({"path": name, "target_file": target, "code": one.code,
                                     "origin": one.origin, "round": round_no, "test_count": n_kept,
                                     "note": one.note, "generator": one.generator, "_coverage": one.coverage,
                                     **({"distil": one.distil} if one.distil else {}),
                                     **({AS_WRITTEN: one.as_written} if one.as_written else {})})
                        # In the run log with its code: a request cancelled later keeps what was kept.
                        await ctx.progress(f"Round {round_no}: {name}: {n_kept} tests kept",
                                           kept_file={"path": name, "code": one.code, "target_file": target,
                                                      "repository": str(repo)}, coverage=union.line_rate)
                    else:
                        failures.append(one.note)
                if halt is not None:
                    # Out of budget or time: the request ends here, and what it kept stands (issue 16).
                    halted = halt
                    stop = f"stopped by the model gateway: {halt}"
                    await ctx.progress(f"Round {round_no}: {halt}", round=round_no)
                    break
            await ctx.progress(f"Round {round_no}: measured line coverage {union.line_rate:.1%} (target {goal:.0%})",
                               coverage=union.line_rate, files={t: round(union.rate(t), 4) for t in targets})
            if union.line_rate >= goal:
                stop = "target reached"
                break
            if halted is not None:
                break
        if not kept:
            raise TaskFailed(f"No test kept: {halted}" if halted is not None else
                             f"No test kept: {actionable(failures)}")
        outcome, reason = "complete", f"target {goal:.0%} reached"
        if union.line_rate < goal and halted is not None:
            outcome = "partial"
            reason = (f"stopped in round {rounds} at {union.line_rate:.0%} measured line coverage (target "
                      f"{goal:.0%}): {halted} The {sum(k['test_count'] for k in kept)} tests kept before "
                      "that stand.")
        elif union.line_rate < goal:
            outcome = "partial"
            reason = (f"measured line coverage {union.line_rate:.0%} is below the target {goal:.0%} after "
                      f"{rounds} round(s) ({stop})" + (f"; last problem: {failures[-1]}" if failures else ""))
        if halted is None:  # a model out of budget or time would refuse (or time out) each rewrite again
            await self._polish(ctx, repo, kept)
        kept = await one_file_per_target(ctx.services.phase2, repo, kept, ctx.progress)
        for k in kept:
            k.pop("_coverage", None)
        going_out = [k["code"] for k in kept]
        mutation = await self._mutation(ctx, task, kept)
        if going_out != [k["code"] for k in kept]:  # the gate undid a distillation: measure what goes out
            union = await measured_again(ctx.services.phase2.execute, repo, targets, task.baseline, kept)
        return {"strategy": strategy, "rounds": rounds, "stop_reason": stop, "files": kept,
                "coverage": union.to_json(), "failures": failures[-10:], "baseline": baseline,
                "outcome": outcome, "reason": reason, "generators": generators, "mutation": mutation}

    async def _polish(self, ctx: TaskContext, repo: Path, kept: list[dict[str, Any]]) -> None:
        """With a model: names and docstrings for search output (Pynguin's ``var_0``, CrossHair's ``test_f_2``).

        A rewrite replaces a kept file only if it has the same tests, passes,
        and executes every line and branch the file did; anything else (a
        refused budget, a broken test, a lost branch) leaves the file as it
        was, and ``polish`` on the file says which.
        """
        gateway = ctx.services.gateway
        if gateway is None:
            return
        for k in kept:
            if k["origin"] not in ("search", "crosshair") or not k.get("_coverage"):
                continue
            await ctx.progress(f"Naming and documenting the tests of {k['path']}…")
            messages = [{"role": "user", "content": llm_strategy.polish_prompt(k["code"])}]
            try:
                candidate, _ = await llm_strategy.ask(gateway, messages, agent_id=ctx.agent_id, task_id=ctx.task_id,
                                                      target_file=k["target_file"], whole_file=True,
                                                      purpose="readability", on_progress=model_streaming(ctx))
            except StrategyError as exc:
                ctx.tokens_used += exc.tokens
                k["polish"] = f"left as generated: {exc}"
                continue
            except ModelRefused as exc:  # out of budget, or failing: the next file would meet the same
                for rest in kept[kept.index(k):]:
                    if rest["origin"] in ("search", "crosshair"):
                        rest["polish"] = f"left as generated: {exc}"
                break
            ctx.tokens_used += candidate.tokens
            if await asyncio.to_thread(count_tests, candidate.code) != k["test_count"]:
                k["polish"] = "left as generated: the rewrite changed the tests"
                continue
            run = await ctx.services.phase2.execute(candidate.code, repo, [k["target_file"]])
            if run["status"] != "success":
                k["polish"] = f"left as generated: the rewrite did not pass ({run.get('error')})"
            elif not still_covers(run.get("coverage"), k["_coverage"]):
                k["polish"] = "left as generated: the rewrite lost coverage"
            else:
                k["code"], k["polish"] = candidate.code, "names and docstrings by the model"

    async def _mutation(self, ctx: TaskContext, task: EvolveTask, kept: list[dict[str, Any]]) -> dict[str, Any]:
        """The kept suite's mutation score, time-boxed (``GenerateRequest.mutation_time_box_s``)."""
        if not task.request.mutation_score:
            for k in kept:
                k.pop(AS_WRITTEN, None)
            return {"score": None, "error": "not measured: the request asked not to (mutation_score false)"}
        box = task.request.mutation_time_box_s
        if task.wall is not None:
            box = task.wall.mutation_box_s(box)
            if not box:
                for k in kept:
                    k.pop(AS_WRITTEN, None)
                return {"score": None, "error": wall_spent_note()}
        repo, targets = task.repository, task.target_files
        await ctx.progress(f"Measuring the mutation score of the kept tests (at most {box:.0f} s)…")
        allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
        python = task.interpreter or choose_interpreter(None)
        try:
            gated = await gate(repo, targets, kept, python=python, time_box_s=box, allow_unisolated=allow,
                               phase2=ctx.services.phase2,
                               due_at=task.wall.gate_due_at if task.wall is not None else None)
        except AppError as exc:  # the sandbox refused: coverage still stands
            for k in kept:
                k.pop(AS_WRITTEN, None)
            return {"score": None, "error": str(exc)}
        score = gated.score
        if score.score is not None:
            await ctx.progress(f"Mutation score {score.score:.0%} ({score.killed} of {score.total} mutants killed)"
                               + (f"; {gated.note}" if gated.note else ""))
        return gated.to_json()

    async def _portfolio(self, ctx: TaskContext, strategy: str, task: EvolveTask, target: str, round_no: int,
                         union: CoverageUnion, failures: list[str], search_s: float, shown: frozenset[str],
                         ) -> tuple[list[Tried], list[tuple[str, str, float]], ModelRefused | None]:
        """Every generator of this round at once, each candidate then kept per test.

        Returns what was tried (kept or not, with why) and (generator,
        error) pairs. One generator crashing or finding nothing never ends
        the request while another has produced something. Round 1 adds the
        module's docstring examples and its README's (free, one candidate) and CrossHair's symbolic cover
        (one process, whatever the strategy); search runs two Pynguin
        configurations side by side (each is its own process); llm tries
        its own candidates, since it repairs them from what the run said.
        """
        jobs: dict[str, Any] = {}
        waited: dict[str, FreedCore] = {}  # a job that first waits for a core, and what tells how long
        repo = task.repository
        seconds = int(search_s)
        allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
        site = None
        if ctx.services.envs is not None:  # built by Observation; found in its cache here
            env = await ctx.services.envs.environment_for(repo, allow_unisolated=allow)
            site = env.site_packages if env is not None else None
        if round_no == 1:
            jobs["examples"] = asyncio.to_thread(authored_examples.generate, repo, target, shown)
            if ctx.services.crosshair is not None:  # deterministic: a second round would find the same
                jobs["crosshair cover"] = ctx.services.crosshair.generate(
                    repo, target, search_time_s=seconds, allow_unisolated=allow, site_packages=site)
        if strategy == "search":
            runner = ctx.services.pynguin
            if runner is None:
                return [], [("pynguin", "the search strategy is not available in this process", 0.0)], None
            configurations = _pynguin_configurations(round_no, with_crosshair="crosshair cover" in jobs)
            for algorithm, seed in configurations:
                jobs[f"pynguin {algorithm.lower()} seed {seed}"] = runner.generate(
                    repo, target, search_time_s=seconds, seed=seed, allow_unisolated=allow,
                    site_packages=site, algorithm=algorithm)
            if "crosshair cover" in jobs and len(configurations) == 1 and task.wall is not None:
                freed = FreedCore(seconds)  # the core CrossHair frees early searches too (one module's request)
                jobs["crosshair cover"] = freed.signalling(jobs["crosshair cover"])
                waited[second := f"pynguin mio seed {2000 + round_no}"] = freed
                jobs[second] = freed.search(lambda left: runner.generate(
                    repo, target, search_time_s=left, seed=2000 + round_no, allow_unisolated=allow,
                    site_packages=site, algorithm="MIO"))
        else:
            jobs["llm"] = llm_job(ctx, task, target, union, failures)

        loop = asyncio.get_running_loop()
        seconds_of: dict[str, float] = {}

        async def tried_when_ready(name: str, job: Any) -> list[Tried]:
            # Each candidate is kept per test as soon as its generator ends, while the others still search.
            started = loop.time()
            try:
                result = await job
                if result is None:  # a second search the freed core had too little time for
                    return []
                if isinstance(result, LLMJob):
                    if result.halt is not None:
                        halts.append(result.halt)
                    return result.tried
                wait = waited[name].waited_s if name in waited else 0.0
                generated = loop.time() - started - wait
                one = await keep_candidate(ctx.services.phase2, ctx.progress, name, result, repo, union,
                                           distil_due_at=task.wall.distil_due_at if task.wall is not None else None)
                one = replace(one, steps={**({"wait for a core": round(wait, 1)} if wait else {}),
                                          "generate": round(generated, 1), **one.steps})
            finally:
                seconds_of[name] = loop.time() - started
            await ctx.progress(f"Round {round_no}: {name}: {one.note} ({seconds_of[name]:.0f} s)",
                               target_file=target, round=round_no, generator=name,
                               kept=await asyncio.to_thread(count_tests, one.code) if one.code else 0,
                               seconds=round(seconds_of[name], 1),
                               coverage=union.line_rate)
            return [replace(one, seconds=seconds_of[name])]

        halts: list[ModelRefused] = []
        results = await asyncio.gather(*(tried_when_ready(n, j) for n, j in jobs.items()), return_exceptions=True)
        tried: list[Tried] = []
        errors: list[tuple[str, str, float]] = []
        for name, result in zip(jobs, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, ModelRefused):
                halts.append(result)  # what the other generators kept this round still counts
            elif isinstance(result, StrategyError):
                ctx.tokens_used += result.tokens
                errors.append((name, str(result), seconds_of.get(name, 0.0)))
            elif isinstance(result, BaseException):
                errors.append((name, f"{type(result).__name__}: {result}", seconds_of.get(name, 0.0)))
            else:
                tried.extend(result)
        return tried, errors, (halts[0] if halts else None)

    @staticmethod
    def _file_name(target: str, kept: list[dict[str, Any]]) -> str:
        _, module = module_of(target)
        stem = f"tests/test_generated_{module.replace('.', '_')}"
        taken = {k["path"] for k in kept}
        name, n = f"{stem}.py", 2
        while name in taken:
            name, n = f"{stem}_{n}.py", n + 1
        return name
