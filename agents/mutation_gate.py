"""The kept suite's mutation score, and the gate distillation must pass on it.

Distillation keeps a rewrite only if it passes three times and covers what
the file covered (agents/distil_step.py); coverage does not say whether the
rewritten assertions still notice a wrong line. Where a request measures
its mutation score, the distilled suite and the suite as generated are run
side by side under mutmut, in the same time box, and compared on the
mutants both finished: the distilled files stay only if they kill at least
as many. Otherwise every file goes out as generated, and the result says
why. Measured per suite, not per transformation: mutmut reports per
mutant, not per test, and one run per rewrite would not fit the box.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.mutation import MutationScore, mutation_score

AS_WRITTEN = "_as_written"  # a kept file's code before distillation, while the request runs


@dataclass(frozen=True)
class Gated:
    score: MutationScore
    note: str | None  # how the two suites compared, when there were two
    compared: dict[str, Any] | None = None  # mutants both finished, each suite's kills, which suite went out

    def to_json(self) -> dict[str, Any]:
        return {**self.score.to_json(), **({"distillation": self.note} if self.note else {}),
                **({"compared": self.compared} if self.compared else {})}


async def gate(repository: Path, targets: list[str], kept: list[dict[str, Any]], *, python: str,
               time_box_s: float, allow_unisolated: bool) -> Gated:
    """Score the kept files; with distilled ones, keep whichever suite kills more (``kept`` is changed in place).

    ``AS_WRITTEN`` is removed from every file either way: the result carries one form.
    """
    distilled = {k["path"]: k["code"] for k in kept}
    written = {k["path"]: k.get(AS_WRITTEN) or k["code"] for k in kept}
    for k in kept:
        k.pop(AS_WRITTEN, None)
    if written == distilled:
        return Gated(await mutation_score(repository, targets, distilled, python=python, time_box_s=time_box_s,
                                          allow_unisolated=allow_unisolated), None)
    ours, theirs = await asyncio.gather(
        mutation_score(repository, targets, distilled, python=python, time_box_s=time_box_s,
                       allow_unisolated=allow_unisolated),
        mutation_score(repository, targets, written, python=python, time_box_s=time_box_s,
                       allow_unisolated=allow_unisolated))
    both = set(ours.outcomes) & set(theirs.outcomes)
    if not both:
        return Gated(ours, "distilled tests kept: no mutant was finished under both suites to compare them on")
    mine, before = ours.killed_of(both), theirs.killed_of(both)
    compared = f"on the {len(both)} mutants both suites finished, distilled tests kill {mine}, as generated {before}"
    figures = {"mutants": len(both), "distilled": mine, "as_generated": before}
    if mine >= before:
        return Gated(ours, f"{compared}: distilled tests kept", {**figures, "kept": "distilled"})
    for k in kept:
        if written[k["path"]] != k["code"]:
            k["code"] = written[k["path"]]
            k["distil"] = f"undone: the tests as generated killed more mutants ({before} against {mine})"
    return Gated(theirs, f"{compared}: the tests go out as generated", {**figures, "kept": "as_generated"})
