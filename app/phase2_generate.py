"""The Phase 2 single-shot path: one generation pass, executed once.

No agents, no iteration and no filtering by reruns: this is the legacy
behaviour the rollout compares the agents against.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agents.base import Services
from agents.baseline import existing_coverage
from agents.coverage_union import CoverageUnion
from agents.distil_step import Distiller
from agents.evolution import count_tests
from agents.expected_raises import with_expected_raises
from agents.generation import StrategyError, module_of
from agents.generation import llm as llm_strategy
from agents.generation.doctests import runs_doctests
from agents.generation.import_root import importable_once
from agents.keep_per_test import collect_test_keys, keep_only, outcome_key
from agents.mutation_gate import AS_WRITTEN, TARGET, gate
from agents.observation import checkout, is_test_file, python_files, target_problem
from agents.reporting import cost_note, usage_of_call_id
from agents.test_order import order_dependent
from agents.wall_budget import WallBudget, wall_spent_note
from agents.whole_repository import left_to_cover, split_budget, untested_modules
from engine import multi_file, sandbox_snapshot, settings_store
from engine.errors import AppError
from engine.generate_request import GenerateRequest
from engine.interpreter import choose_interpreter
from engine.model_port import ModelRefused, OnProgress

Say = Callable[..., Awaitable[None]]  # a progress line and its figures, as the agents' (ctx.progress) are


async def _quiet(_message: str, **_data: Any) -> None:
    return None


async def single_shot(services: Services, request: GenerateRequest, on_progress: OnProgress | None = None,
                      request_id: str | None = None, say: Say = _quiet) -> dict[str, Any]:
    """``on_progress``: a model's answer growing (tokens, tokens/s), for whoever watches the request.
    ``request_id``: the model calls are counted under it, and the result says what they spent.
    ``say``: each step as a line (and a generator's row, the coverage so far) for the window's log and bar."""
    started = time.perf_counter()
    wall = WallBudget.of(time.time(), request.search_time_s)  # when the result is due (agents/wall_budget.py)
    repo, _ = await checkout(request.repository_url, services.workspace)
    if note := await asyncio.to_thread(sandbox_snapshot.private_note, repo):
        await say(note)
    targets = list(request.target_files) or await _untested(repo, request.repository_url, say)
    if problem := await asyncio.to_thread(target_problem, repo, targets, request.repository_url):
        raise StrategyError(problem)
    strategy = request.strategy or ("llm" if services.gateway is not None else "search")
    union = await CoverageUnion.sized(repo, targets)
    # The repository's own tests first, measured as the agents measure them (agents/baseline.py).
    await say("Measuring what the repository's own tests cover")
    baseline = union.start_from(await _existing(services, repo, targets))
    goal = request.coverage_target
    if baseline is not None:
        await say(f"Existing tests cover {union.line_rate:.0%} of the target lines", coverage=union.line_rate)
    if baseline is not None and union.line_rate >= goal and not request.generate_anyway:
        return {"files": {}, "tests": "", "test_count": 0, "strategy": strategy, "rounds": 0, "failures": [],
                "coverage_estimate": round(union.line_rate, 4), "branch_coverage": round(union.branch_rate, 4),
                "coverage_by_file": baseline["files"], "baseline_coverage": baseline["line_rate"],
                "outcome": "met", "coverage_target": goal, "repository": str(repo),
                "reason": f"The existing tests already cover {union.line_rate:.0%} of the target lines (target "
                          f"{goal:.0%}); nothing generated.",
                "execution_time_seconds": round(time.perf_counter() - started, 3), "token_usage": 0,
                "cost_usd": 0.0, "unpriced_models": [], "cost_note": ""}
    files: dict[str, str] = {}
    as_written: dict[str, str] = {}  # each file before distillation: the mutation gate compares both
    distil_notes: dict[str, str] = {}
    failures: list[str] = []
    shares: dict[str, int] = {}  # a whole repository's search budget, split by what is left to cover
    if request.whole_repository and len(targets) > 1:
        budget = split_budget(await asyncio.to_thread(left_to_cover, repo, targets, baseline), request.search_time_s,
                              searching=strategy == "search")
        await say(f"Whole repository, {len(targets)} module(s): {budget.note}")
        shares = {share.target: share.search_s for share in budget.shares}
        failures += [f"{t}: not searched: the budget allowed no share for it" for t in budget.skipped]
        targets = [share.target for share in budget.shares]
    test_count = 0
    searched_s = 0.0  # the search budget is the whole request's (GenerateRequest.search_time_s): shared by targets
    for index, target in enumerate(targets):
        target_started = time.perf_counter()
        await say(f"{target}: generating ({strategy})", search_budget_s=request.search_time_s)
        try:
            if strategy == "llm":
                candidate = await llm_strategy.generate(
                    services.gateway, agent_id="phase2", task_id=request_id, target_file=target,
                    repository_source=await asyncio.to_thread((repo / target).read_text, "utf-8"),
                    analysis=[], requirements=request.requirements, uncovered=[], failures=[],
                    on_progress=on_progress)
            else:
                # The repository's declared dependencies, as on the agents' path (engine/repo_env.py).
                env = await services.envs.environment_for(repo) if services.envs is not None else None
                # A whole repository's module gets its share; otherwise what is left, cut so the result is on time.
                share_s = shares.get(target) or max(1, int(wall.search_s(
                    request.search_share_s(len(targets) - index, searched_s), mutation=request.mutation_score,
                    targets_left=len(targets) - index)))
                search_started = time.perf_counter()
                try:
                    candidate = await services.pynguin.generate(
                        repo, target, search_time_s=share_s, seed=1000,
                        site_packages=env.site_packages if env is not None else None)
                finally:
                    searched_s += min(share_s, time.perf_counter() - search_started)
        except StrategyError as exc:
            failures.append(f"{target}: {exc}")
            await say(f"{target}: {exc}", generator=strategy, target_file=target, kept=0,
                      seconds=time.perf_counter() - target_started)
            continue
        except ModelRefused as exc:  # out of budget or time: what the earlier targets got stands
            failures.append(f"{target}: {exc}")
            break
        # Search's bare xfail marks become ``pytest.raises(<what was raised>)``, as on the agents' route.
        code, run, raised = await with_expected_raises(services.phase2, candidate.code, repo, target)
        if raised:
            run = await services.phase2.execute(code, repo, [target])
        name = _file_name(target)
        if run["status"] == "failed":
            # One test asserting a memory address (Pynguin's repr of a function) failed the whole file and
            # the request handed out 0 %: the failing tests go, once, and the rest must pass as they are.
            code, run, cut = await _without_failing(services, repo, target, code, run)
            if cut:
                distil_notes[name] = f"{len(cut)} test(s) that failed as generated cut: {', '.join(cut[:5])}"
        if run["status"] == "success":
            # Run reversed, shuffled and each test alone: one that passes only after another is not handed out.
            code, run = await _without_order_dependent(services, repo, target, code, run, failures)
        if run["status"] == "success":
            union.add(run["coverage"])
            if candidate.origin == "search":  # the default route hands out tests a person keeps too
                await say(f"{target}: distilling the tests (each rewrite checked by a run)…")
                distilled = await Distiller(services.phase2, repo, target).distil(code, baseline=run)
                if distilled.changed:
                    as_written[name] = code
                code = distilled.code
                distil_notes[name] = "; ".join([*filter(None, [distil_notes.get(name)]), distilled.note,
                                                *distilled.notes])
        else:
            failures.append(f"{target}: {run['status']}: {run.get('error')}")
        files[name] = code
        kept_here = await asyncio.to_thread(count_tests, code)  # a parse: CPU work, off the loop
        test_count += kept_here
        # The file's own figure, then all targets': "line coverage 42%" after the first of two files read as that
        # file's (validators' cron.py was at 82 %, 42 % was of both files' lines so far).
        await say(f"{target}: {kept_here} tests kept; {union.rate(target):.0%} of its lines, "
                  f"{union.line_rate:.0%} of all target lines so far",
                  generator=candidate.origin, target_file=target, kept=kept_here,
                  seconds=time.perf_counter() - target_started, coverage=union.line_rate)
    coverage = union.to_json()  # the existing tests and the kept ones together
    mutation = await _mutation(services, request, repo, targets, files, as_written, distil_notes, say,
                               None if shares else wall)
    # The gate may send files out as generated: counted again, off the loop.
    test_count = sum(await asyncio.to_thread(lambda: [count_tests(code) for code in files.values()]))
    # One tests/conftest.py instead of a sys.path line atop every file (agents/generation/import_root.py).
    files = await asyncio.to_thread(importable_once, repo, files, list(targets))
    # The verdict (app/outcome.py) reads these: no test is a failure, below the target is partial.
    if coverage["line_rate"] >= goal:
        outcome, reason = "complete", f"target {goal:.0%} reached"
    else:
        outcome = "partial"
        reason = (f"measured line coverage {coverage['line_rate']:.0%} is below the target {goal:.0%} after the "
                  "single pass" + (f"; last problem: {failures[-1]}" if failures else ""))
    tokens, cost, unpriced = await usage_of_call_id(services.pool, request_id) if request_id else (0, 0.0, [])
    env = await services.envs.environment_for(repo) if services.envs is not None else None  # built: the cached one
    return {
        "added_dependencies": [a.why for a in env.added] if env is not None else [],
        "tests": multi_file.join(files),
        "files": files,
        "coverage_estimate": round(coverage["line_rate"], 4),
        "branch_coverage": round(coverage["branch_rate"], 4),
        "coverage_by_file": coverage["files"],
        "test_count": test_count,
        "strategy": strategy,
        "rounds": 1,
        "failures": failures,
        "distil": distil_notes,
        "mutation": mutation,
        "outcome": outcome,
        "reason": reason,
        "coverage_target": goal,
        "baseline_coverage": baseline["line_rate"] if baseline is not None else None,
        "repository": str(repo),  # the checkout the tests were measured on (Save, Run, the outline read it)
        "execution_time_seconds": round(time.perf_counter() - started, 3),
        "token_usage": tokens,
        "cost_usd": round(cost, 6),
        "unpriced_models": unpriced,
        "cost_note": cost_note(unpriced),
    }


async def _mutation(services: Services, request: GenerateRequest, repo: Path, targets: list[str],
                    files: dict[str, str], as_written: dict[str, str], notes: dict[str, str], say: Say,
                    wall: WallBudget | None = None) -> dict[str, Any] | None:
    """The kept files' mutation score, and the gate distillation passes on it (agents/mutation_gate.py), as on
    the agents' route: the default route must not hand out tests that notice fewer wrong lines than search's.

    ``files`` and ``notes`` are changed in place when the gate sends the tests out as generated.
    """
    if not request.mutation_score:
        return {"score": None, "error": "not measured: the request asked not to (mutation_score false)"}
    if not files:
        return None
    box = request.mutation_time_box_s if wall is None else wall.mutation_box_s(request.mutation_time_box_s)
    if not box:
        return {"score": None, "error": wall_spent_note()}
    await say(f"Measuring the mutation score of the kept tests (at most {box:.0f} s)…")
    allow = (await settings_store.load(services.pool)).allow_unisolated
    env = await services.envs.environment_for(repo, allow_unisolated=allow) if services.envs is not None else None
    python = str(env.python) if env is not None else choose_interpreter(None)
    target_of = {_file_name(t): t for t in targets}
    kept = [{"path": path, "code": code, **({AS_WRITTEN: as_written[path]} if path in as_written else {}),
             **({TARGET: target_of[path]} if path in target_of else {})} for path, code in files.items()]
    try:
        gated = await gate(repo, targets, kept, python=python, time_box_s=box, allow_unisolated=allow,
                           phase2=services.phase2, due_at=wall.gate_due_at if wall is not None else None)
    except AppError as exc:  # the sandbox refused: coverage still stands
        return {"score": None, "error": str(exc)}
    for k in kept:
        files[k["path"]] = k["code"]
        if k.get("distil"):
            notes[k["path"]] = k["distil"]
    if gated.score.score is not None:
        await say(f"Mutation score {gated.score.score:.0%} ({gated.score.killed} of {gated.score.total} mutants "
                  "killed)" + (f"; {gated.note}" if gated.note else ""))
    return gated.to_json()


async def _without_order_dependent(services: Services, repo: Path, target: str, code: str, run: dict[str, Any],
                                   failures: list[str]) -> tuple[str, dict[str, Any]]:
    """``code`` without the tests that fail reversed, shuffled or alone (named in ``failures``), measured again."""
    flaky = await order_dependent(services.phase2, code, repo, target, shuffles=1)
    if not flaky:
        return code, run
    failures.append(f"{target}: {', '.join(flaky[:5])} dropped as flaky (failed reversed, shuffled or alone: "
                    "depends on another test or on chance)")
    keep = [k for k in await asyncio.to_thread(collect_test_keys, code) if k not in flaky]
    if not keep:
        return code, {**run, "status": "failed", "error": "every test depends on another one's effects"}
    code = await asyncio.to_thread(keep_only, code, keep)
    return code, await services.phase2.execute(code, repo, [target])


async def _untested(repo: Path, url: str, say: Say) -> list[str]:
    """A whole-repository request's targets: every module without tests (agents/whole_repository.py)."""
    found = await asyncio.to_thread(python_files, repo)
    targets = await asyncio.to_thread(untested_modules, repo, found, [f for f in found if is_test_file(f)])
    if not targets:
        raise StrategyError(f"Every module of {url} has tests (a test file named after it or importing it), or "
                            "defines nothing to test: name the files to generate tests for.")
    await say(f"Whole repository: {len(targets)} module(s) without tests: {', '.join(targets[:8])}"
              + (" …" if len(targets) > 8 else ""))
    return targets


async def _existing(services: Services, repo: Path, targets: list[str]) -> dict[str, Any] | None:
    """The repository's own tests' coverage of the targets, under its environment's Python (or ours)."""
    tests = [f for f in await asyncio.to_thread(python_files, repo) if is_test_file(f)]
    if not tests and not await asyncio.to_thread(runs_doctests, repo):
        return None  # nothing to measure: no environment is built for it
    allow = (await settings_store.load(services.pool)).allow_unisolated
    env = await services.envs.environment_for(repo, allow_unisolated=allow) if services.envs is not None else None
    python = str(env.python) if env is not None else choose_interpreter(None)
    return await existing_coverage(repo, targets, tests, python=python, allow_unisolated=allow)


async def _without_failing(services: Services, repo: Path, target: str, code: str, run: dict[str, Any]
                           ) -> tuple[str, dict[str, Any], list[str]]:
    """``code`` without the tests that failed in ``run``, if the rest passes on its own run; else as it was."""
    keys = await asyncio.to_thread(collect_test_keys, code)
    held = {outcome_key(o) for o in run.get("tests") or []
            if o.get("outcome") in ("passed", "xpassed", "xfailed", "skipped")}
    keep = [k for k in keys if k in held]
    if not keep or len(keep) == len(keys):
        return code, run, []
    kept = await asyncio.to_thread(keep_only, code, keep)
    again = await services.phase2.execute(kept, repo, [target])
    if again["status"] != "success":
        return code, run, []
    return kept, again, [k for k in keys if k not in held]


def _file_name(target: str) -> str:
    """The kept test file's name for ``target`` (the gate maps it back to its target)."""
    return f"tests/test_generated_{module_of(target)[1].replace('.', '_')}.py"
