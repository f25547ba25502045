"""The kept suite's mutation score, and the gate distillation must pass on it.

Distillation keeps a rewrite only if it passes three times and covers what
the file covered (agents/distil_step.py); coverage does not say whether the
rewritten assertions still notice a wrong line. Where a request measures
its mutation score, the distilled suite and the suite as generated are run
side by side under mutmut, in the same time box, and compared on the
mutants both finished: the distilled files stay only if they kill at least
as many. Otherwise the transformations are undone one at a time, the
one most likely to lose a kill first, each form scored on the same
mutants: the **slice** (a dropped test that ran no line of its own may
still have been the only one to notice a mutant, a boundary such as
``is_adult(18)`` beside ``is_adult(30)``) is undone by distilling the
file again with every passing unit kept (names, values and assertions
still rewritten); only if that form loses kills too does every file go out
as generated. When the due time leaves no room to try the forms in between,
a distilled suite one kill behind (or one in fifty) stays: search's raw form
is not worth one mutant in fifty. The result says which form went out and why. mutmut reports
per mutant, not per test, so the comparison is per suite; each undo costs
a distillation and one more scored run (at most the same time box), and
only when the distilled suite lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.distil_step import Distiller
from agents.phase2_client import Phase2
from engine.mutation import MutationScore, mutation_score

AS_WRITTEN = "_as_written"  # a kept file's code before distillation, while the request runs
TARGET = "_target"  # the file a kept test file was distilled for (where the kept entry does not say it already)


@dataclass(frozen=True)
class Gated:
    score: MutationScore
    note: str | None  # how the two suites compared, when there were two
    compared: dict[str, Any] | None = None  # mutants both finished, each suite's kills, which suite went out
    before: MutationScore | None = None  # the tests as generated, when they were scored beside (not in to_json)

    def to_json(self) -> dict[str, Any]:
        return {**self.score.to_json(), **({"distillation": self.note} if self.note else {}),
                **({"compared": self.compared} if self.compared else {})}


async def gate(repository: Path, targets: list[str], kept: list[dict[str, Any]], *, python: str,
               time_box_s: float, allow_unisolated: bool, phase2: Phase2 | None = None,
               due_at: float | None = None) -> Gated:
    """Score the kept files; with distilled ones, keep the most distilled form that kills as many mutants as the
    tests as generated (``kept`` is changed in place).

    ``phase2``: runs the distillation again without the slice, then without the shrink too, when the distilled
    suite lost kills (none: straight to the tests as generated). ``AS_WRITTEN`` and ``TARGET`` are removed from every file either way.
    ``due_at`` (``time.time()``, agents/wall_budget.py): an undo (a distillation and a scored run) starts only if
    it can end by then; otherwise the tests go out as generated, which killed more.
    """
    distilled = {k["path"]: k["code"] for k in kept}
    written = {k["path"]: k.get(AS_WRITTEN) or k["code"] for k in kept}
    target_of = {k["path"]: k.get(TARGET) or k.get("target_file") for k in kept}
    for k in kept:
        k.pop(AS_WRITTEN, None)
        k.pop(TARGET, None)

    async def score(suite: dict[str, str]) -> MutationScore:
        return await mutation_score(repository, targets, suite, python=python, time_box_s=time_box_s,
                                    allow_unisolated=allow_unisolated)

    if written == distilled:
        return Gated(await score(distilled), None)
    ours, theirs = await asyncio.gather(score(distilled), score(written))
    both = set(ours.outcomes) & set(theirs.outcomes)
    if not both:
        return Gated(ours, "distilled tests kept: no mutant was finished under both suites to compare them on",
                     before=theirs)
    mine, before = ours.killed_of(both), theirs.killed_of(both)
    compared = f"on the {len(both)} mutants both suites finished, distilled tests kill {mine}, as generated {before}"
    figures = {"mutants": len(both), "distilled": mine, "as_generated": before}
    if mine >= before:
        return Gated(ours, f"{compared}: distilled tests kept", {**figures, "kept": "distilled"}, theirs)
    tried: list[str] = []
    for step, (options, said) in enumerate(_UNDO):
        if due_at is not None and due_at - time.time() < time_box_s + _REDISTIL_S:
            if step == 0 and before - mine <= max(_ONE_KILL, int(_FEW_KILLS * len(both))):
                # No time for the forms in between, and a few mutants apart: search's raw form (``var_18 =
                # complex``, ``test_smart_truncate_2``, the typical calls gone) is not worth one kill in fifty
                # (python-slugify's file went out as generated for 37 kills against 38 of 79, then for 144
                # against 147 of 204).
                return Gated(ours, f"{compared}: distilled tests kept, {before - mine} kill(s) apart, with no time "
                                   f"left before the result is due to try {said}", {**figures, "kept": "distilled"},
                             theirs)
            tried.append(f"no time left before the result is due to try {said}")
            break
        again_files = await _redistilled(phase2, repository, kept, written, distilled, target_of, options)
        if not again_files:
            continue
        again = await score({path: again_files.get(path, code) for path, code in distilled.items()})
        common = set(again.outcomes) & set(theirs.outcomes)
        kills, theirs_now = again.killed_of(common), theirs.killed_of(common)
        figures[f"undo_{step + 1}"] = kills
        tried.append(f"{said} {kills} of {theirs_now}")
        if common and kills >= theirs_now:
            for k in kept:
                if k["path"] in again_files:
                    k["code"] = again_files[k["path"]]
                    k["distil"] = (f"distilled {said}: the distilled tests killed fewer mutants ({mine} against "
                                   f"{before}), {said} {kills} against {theirs_now}")
            return Gated(again, f"{compared}; {said} {kills} of {theirs_now} on {len(common)} mutants: the "
                                f"distilled tests go out {said}",
                         {**figures, "unsliced": kills, "kept": "distilled_unsliced" if step == 0
                          else "distilled_unshrunk"}, theirs)
    for k in kept:
        if written[k["path"]] != k["code"]:
            k["code"] = written[k["path"]]
            k["distil"] = f"undone: the tests as generated killed more mutants ({before} against {mine})"
    undone = f"; {', '.join(tried)}" if tried else ""
    return Gated(theirs, f"{compared}{undone}: the tests go out as generated", {**figures, "kept": "as_generated"},
                 theirs)


# What distilling a file again takes at most, before its scored run (a few checked runs; agents/distil_step.py).
_REDISTIL_S = 10.0
# The most kills the distilled tests may be behind by and still go out when no form in between can be tried: one,
# or one in fifty of the mutants both suites finished.
_ONE_KILL = 1
_FEW_KILLS = 0.02

# Undone one at a time, the likelier loss first: the slice drops tests, the shrink changes values.
_UNDO: tuple[tuple[dict[str, bool], str], ...] = (
    ({"slice_units": False}, "without the slice"),
    ({"slice_units": False, "shrink_values": False}, "without the slice and with search's values"),
)


async def _redistilled(phase2: Phase2 | None, repository: Path, kept: list[dict[str, Any]],
                       written: dict[str, str], distilled: dict[str, str], target_of: dict[str, str | None],
                       options: dict[str, bool]) -> dict[str, str]:
    """Each distilled file distilled again from its generated form with ``options``; {} when none could be
    (no runner, no target known, or distillation left it as generated)."""
    if phase2 is None:
        return {}
    again: dict[str, str] = {}
    for k in kept:
        path, target = k["path"], target_of.get(k["path"])
        if written[path] == distilled[path] or not target:
            continue
        result = await Distiller(phase2, repository, target).distil(written[path], **options)
        if result.changed:
            again[path] = result.code
    return again
