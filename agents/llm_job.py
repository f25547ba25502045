"""The llm generator's job in a round: CoverUp's loop of prompts per uncovered function, each answer kept per test.

Moved out of agents/evolution.py, which runs it beside the search generators and reads what it tried.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agents.base import TaskContext
from agents.candidate_keep import Tried, keep_candidate
from agents.coverage_union import CoverageUnion
from agents.evolve_task import EvolveTask
from agents.generation import Candidate, StrategyError, module_of
from agents.generation import llm as llm_strategy
from engine.model_port import ModelRefused, StreamProgress

# The llm strategy's CoverUp loop: functions prompted per round, and repairs of one prompt's answer.
_LLM_SEGMENTS = 4
_LLM_REPAIRS = 2


@dataclass(frozen=True)
class LLMJob:
    """The llm generator's candidates, and the refusal (budget, time-out) that ended it early, if one did."""

    tried: list[Tried]
    halt: ModelRefused | None


def model_streaming(ctx: TaskContext):  # noqa: ANN202 - returns an OnProgress
    """Shows a model's answer growing (tokens, tokens/s) to whoever watches, without a run-log row per second."""

    async def show(progress: StreamProgress) -> None:
        await ctx.live(progress.describe(), model_stream=progress.as_event())

    return show


async def llm_job(ctx: TaskContext, task: EvolveTask, target: str, union: CoverageUnion,
                  failures: list[str]) -> LLMJob:
    """CoverUp's loop: a prompt per function with gaps, failures fed back at most ``_LLM_REPAIRS`` times.

    A module nothing has measured yet gets one whole-module prompt
    first; the functions its kept tests leave uncovered come next.
    """
    tried: list[Tried] = []
    try:
        await _llm_prompts(ctx, task, target, union, failures, tried)
    except ModelRefused as exc:  # out of budget or time: the candidates tried so far still count
        return LLMJob(tried, exc)
    return LLMJob(tried, None)

async def _llm_prompts(ctx: TaskContext, task: EvolveTask, target: str, union: CoverageUnion,
                       failures: list[str], tried: list[Tried]) -> None:
    repo = task.repository
    if not union.measured(target):
        candidate = await _llm(ctx, task, target, union, failures)
        one = await keep_candidate(ctx.services.phase2, ctx.progress, "llm module", candidate, repo, union)
        tried.append(one)
        await ctx.progress(f"llm module: {one.note}")
    source = await asyncio.to_thread((repo / target).read_text, "utf-8")
    _, module = module_of(target)
    requirements = task.checklist
    gaps = await asyncio.to_thread(llm_strategy.segments, source, set(union.files[target].missing), _LLM_SEGMENTS)
    for segment in gaps:
        if not set(segment.missing) & union.files[target].missing:
            continue  # an earlier segment's tests covered it
        # segment_prompt parses the module: off the loop, like all CPU work.
        prompt = await asyncio.to_thread(llm_strategy.segment_prompt, module, target, source, segment,
                                         requirements)
        messages = [{"role": "user", "content": prompt}]
        for attempt in range(1 + _LLM_REPAIRS):
            name = f"llm {segment.name}" + (f" (repair {attempt})" if attempt else "")
            try:
                candidate, answer = await llm_strategy.ask(ctx.services.gateway, messages, agent_id=ctx.agent_id,
                                                           task_id=ctx.task_id, target_file=target,
                                                           on_progress=model_streaming(ctx))
            except StrategyError as exc:
                ctx.tokens_used += exc.tokens
                tried.append(Tried(name, "llm", None, f"{target}: {exc}"))
                break
            ctx.tokens_used += candidate.tokens
            one = await keep_candidate(ctx.services.phase2, ctx.progress, name, candidate, repo, union)
            tried.append(one)
            await ctx.progress(f"{name}: {one.note}")
            still = sorted(set(segment.missing) & union.files[target].missing)
            if not still:
                break
            problem = one.note if one.code is None else f"{one.note}; lines {still} are still not executed"
            messages += [{"role": "assistant", "content": answer},
                         {"role": "user", "content": llm_strategy.repair_prompt(problem)}]

async def _llm(ctx: TaskContext, task: EvolveTask, target: str, union: CoverageUnion,
               failures: list[str]) -> Candidate:
    source = await asyncio.to_thread((task.repository / target).read_text, "utf-8")
    candidate = await llm_strategy.generate(
        ctx.services.gateway, agent_id=ctx.agent_id, task_id=ctx.task_id,
        repository_source=source, target_file=target,
        analysis=task.functions_of(target),
        requirements=task.checklist,
        uncovered=sorted(union.files[target].missing), failures=failures, on_progress=model_streaming(ctx),
    )
    ctx.tokens_used += candidate.tokens
    return candidate
