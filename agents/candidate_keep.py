"""Keep per test: what of one generator's candidate file is kept, checked, and distilled.

A candidate is kept only for the tests that pass, hold on a rerun, in reverse and alone, and add measured
coverage (the fewest that do); search and symbolic output is then distilled into tests a person keeps
(agents/distil_step.py), within the request's due time. Moved out of agents/evolution.py, which plans the
rounds and the generators; this is what happens to each thing they produce.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.coverage_union import CoverageUnion
from agents.distil_step import Distiller
from agents.expected_raises import with_expected_raises
from agents.generation import Candidate, module_of
from agents.generation.foreign_private import leaning_on_foreign_private
from agents.generation.machine_paths import machine_paths, pinning_machine_paths
from agents.keep_per_test import collect_test_keys, keep_only, passing, select_minimal
from agents.phase2_client import Phase2
from agents.test_order import order_dependent

# The task's progress line (TaskContext.progress): a message and fields for the run log.
Progress = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Tried:
    """One candidate after keep-per-test: the kept code, or None and why."""

    generator: str
    origin: str
    code: str | None
    note: str
    coverage: dict[str, Any] | None = None  # the kept file's own run: what a rewrite must still cover
    distil: str = ""  # what distillation did to the kept file, or why it left it (agents/distil_step.py)
    as_written: str | None = None  # the kept file before distillation (agents/mutation_gate.py compares both)
    seconds: float = 0.0  # generating it and keeping it per test
    flaky: tuple[str, ...] = ()  # tests that passed once and failed a rerun, reversed or alone: dropped
    # Where its time went, in seconds: generating, the first run, the keep runs, distillation. Said in the result
    # (``generators``) since a late result is otherwise a riddle (marshmallow.validate: 86 s for a 60 s search).
    steps: dict[str, float] = field(default_factory=dict)


async def keep_candidate(phase2: Phase2, progress: Progress, name: str, candidate: Candidate, repo: Path,
                         union: CoverageUnion, *, distil_due_at: float | None = None) -> Tried:
    """Keep per test: the kept code and a note, or no code and why nothing was kept.

    Run 1 gives each test's outcome and coverage; the fewest passing
    tests holding the gain are chosen; run 2 checks that file as it will
    be written, which is each kept test's rerun. A chosen test failing
    there is flaky: it goes, and run 3 checks the rest. Two runs in the
    usual case, not three: on a 60 s budget a run is 3-8 s of it. After a passing run 2, the file runs
    reversed and each kept test alone, side by side (unmeasured): one that fails there goes as flaky too.
    """
    target = candidate.target_file
    # Parsing and set cover can take a while on a 1,500-line file: off the loop, like all CPU work.
    all_keys = await asyncio.to_thread(collect_test_keys, candidate.code)
    if not all_keys:
        return Tried(name, candidate.origin, None, f"{target}: the candidate has no test functions")
    # Marked "raises" by the generator (xfail): run bare, so each fails with the exception it raises.
    clock, steps = asyncio.get_running_loop().time, {}
    since = clock()
    code, first, raised = await with_expected_raises(phase2, candidate.code, repo, target)
    steps["first run"], since = round(clock() - since, 1), clock()
    ok = (passing(first.get("tests") or []) & set(all_keys)) | set(raised)
    # An example its authors show that fails today is news for them, not only a test less.
    wrong = [k for k in all_keys if k not in ok and k.startswith("test_readme")] if "readme" in candidate.origin else []
    wrong_examples = "; the README's examples that fail as written: " + ", ".join(wrong) if wrong else ""
    if not ok:
        why = first.get("error") or first["status"]
        return Tried(name, candidate.origin, None, f"{target}: no test of the candidate passed ({why})"
                     + wrong_examples)
    # A test built on another package's private names pins that package's internals, one naming where the
    # repository sits here fails in every other checkout: neither is kept as it is. Distillation may still
    # take the second kind as optional: it asserts what follows the path (agents/generation/machine_paths.py).
    foreign = set(await asyncio.to_thread(leaning_on_foreign_private, code, module_of(target)[1].split(".")[0]))
    pinned = set(await asyncio.to_thread(lambda: pinning_machine_paths(code, machine_paths(repo)))) - foreign
    steady = [k for k in all_keys if k in ok and k not in foreign and k not in pinned]
    if not steady:
        return Tried(name, candidate.origin, None, f"{target}: every passing test of the candidate uses another "
                                                   "package's private names or this machine's repository path "
                                                   "(not kept)")
    flaky: list[str] = []
    async with union.lock:  # candidates finishing together must not both claim the same new lines
        chosen = await asyncio.to_thread(select_minimal, first.get("per_test_coverage") or {}, union, steady)
        if not chosen:
            return Tried(name, candidate.origin, None, f"{target}: candidate added no coverage")
        for _ in range(3):
            kept_code = await asyncio.to_thread(keep_only, code, chosen)
            final = await phase2.execute(kept_code, repo, [target])
            if final["status"] == "success":
                # Reversed, and each test in a file of its own (agents/test_order.py): a test that passes
                # only after another one is flaky for the user, whose pytest may run it alone.
                again = set(chosen) - set(await order_dependent(phase2, kept_code, repo, target))
                if again == set(chosen):
                    break
            else:
                again = passing(final.get("tests") or [])
            flaky += [k for k in chosen if k not in again]
            chosen = [k for k in chosen if k in again]
            if not chosen:
                break
        if final["status"] != "success" or not chosen:
            why = f"{target}: the kept tests did not pass on a rerun ({final.get('error')})"
            return Tried(name, candidate.origin, None, why)
        union.add(final["coverage"])
    steps["keep"], since = round(clock() - since, 1), clock()
    dropped_failing = len(all_keys) - len(ok)
    note = (f"kept {len(chosen)} of {len(all_keys)} tests ({dropped_failing} failing, {len(flaky)} flaky, "
            + (f"{len(foreign & ok)} using another package's private names, " if foreign & ok else "")
            + (f"{len(pinned & ok)} naming this machine's repository path, " if pinned & ok else "")
            + f"{len(steady) - len(chosen) - len(flaky)} adding no coverage dropped)" + wrong_examples)
    distilled, written = "", kept_code
    if candidate.origin in ("search", "crosshair"):
        # Here, as soon as this candidate is kept, while the other generators may still search: the kept
        # file's own run is the starting point, and no run is repeated.
        await progress(f"{name}: distilling the kept tests of {target} (each rewrite checked by a run)…")
        # The passing tests that added no coverage go along as optional: one that shows a behaviour no kept
        # test shows may be the one that notices a wrong line (agents/distil_step.py). ``final`` is the kept
        # tests' own run: what the distilled file must cover.
        spare = [k for k in steady if k not in chosen and k not in flaky] + sorted(pinned & ok)
        given = await asyncio.to_thread(keep_only, code, [*chosen, *spare]) if spare else kept_code
        result = await Distiller(phase2, repo, target, due_at=distil_due_at).distil(
            given, final, optional=frozenset(spare))
        if not result.changed:
            result.code = kept_code  # left as generated: the kept tests, checked above, without the spare ones
        elif result.coverage is not None:
            # What the distilled file runs: at least what the kept tests ran, and the typical calls' rows may
            # run more (arrow's formatter: 24 % kept, 86 % distilled). The figure the user sees is this one.
            final = {**final, "coverage": result.coverage}
            async with union.lock:
                union.add(result.coverage)
        distilled = "; ".join([result.note, *result.notes])
        kept_code = result.code
        steps["distil"] = round(clock() - since, 1)
    return Tried(name, candidate.origin, kept_code, note, final["coverage"], distil=distilled,
                 as_written=written if written != kept_code else None, flaky=tuple(flaky), steps=steps)
