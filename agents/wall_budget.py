"""A request's wall budget: its result is due 1.2x its search time after it started (issue 27).

The search time is only part of what a module's request takes. Before Pynguin
searches it analyses the module and everything it imports (5 s for
``semver.version``, 10-16 s for ``tabulate``, measured with Pynguin 0.48 on
this 2-core machine); after the search every kept candidate runs again, is
checked in reverse and alone, and is distilled (15-20 s); then the mutation
score. Giving the search three quarters of the budget ended ``tabulate`` at
97 s of evolve for 60 s (1.6x). So the search gets what is left of the wall
once the rest is set aside, and the mutation score gets what is left at the
end: at most its own time box, never past the due time.

Times are the wall clock (``time.time()``), not a loop's: the evolve step may
run in another process or on another machine than the request's start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

WALL_FACTOR = 1.2
# Pynguin's analysis before the search and its assertions and minimisation after (5-16 s measured).
PYNGUIN_OVERHEAD_S = 12.0
# The kept candidate's runs (keep, rerun, reverse and alone), its distillation, the one-file merge: with
# Pynguin's overhead 27-32 s in bench/generation.py's first run (tabulate, string_utils), where 22 s was
# set aside and the results came 1-3 s late; 20 s once distillation also weighed the passing tests that
# added no coverage. 15 s since the "alone" check is one forked run and the shrink one run per kind
# (session 14's bench: 4-9 s after Pynguin's search on 6 modules of 8; semver's and marshmallow's
# distillation, 16-20 s, keeps to the due time by shrinking less): what it frees goes to the search,
# which Pynguin alone has all 60 s of.
AFTER_SEARCH_S = 15.0
# After a kept file's distillation: the merge of a target's kept files (one run) and the result's write.
AFTER_DISTIL_S = 4.0
# The mutation score's least useful time box: below this mutmut rarely finishes its first mutants.
MUTATION_MIN_S = 8.0


@dataclass(frozen=True)
class WallBudget:
    due_at: float  # time.time() by which the request's result is due
    search_time_s: float = 0.0  # the request's search budget (0: unknown, taken as one the wall can hold)

    @classmethod
    def of(cls, started_at: float, search_time_s: float) -> WallBudget:
        return cls(started_at + WALL_FACTOR * search_time_s, search_time_s)

    @property
    def holdable(self) -> bool:
        """Whether 1.2x the budget leaves the search at least half of it beside the rest (from ~50 s). Below,
        the wall cannot hold anyway, and a request is not to lose its mutation score to it."""
        beside = PYNGUIN_OVERHEAD_S + AFTER_SEARCH_S + MUTATION_MIN_S
        return not self.search_time_s or WALL_FACTOR * self.search_time_s - beside >= self.search_time_s / 2

    @classmethod
    def from_payload(cls, value: object) -> WallBudget | None:
        """The due time a bus payload carries; None (no wall bound) for anything but a number."""
        return cls(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def gate_due_at(self) -> float | None:
        """The due time the mutation gate's undo steps keep to (agents/mutation_gate.py); None when the wall
        cannot hold anyway and the gate is to try every undo."""
        return self.due_at if self.holdable else None

    @property
    def distil_due_at(self) -> float | None:
        """By when a kept file's distillation is to be done (agents/distil_step.py shrinks values only while
        there is time). ``AFTER_SEARCH_S`` is what it usually leaves, but a long file takes longer: on
        ``marshmallow.validate`` the Pynguin file's 24 s of distillation (some 20 shrink runs of 66 tests, one
        after another) ended the request at 78-93 s for 72. None when the wall cannot hold anyway."""
        return self.due_at - AFTER_DISTIL_S if self.holdable else None

    def left_s(self) -> float:
        return self.due_at - time.time()

    def search_s(self, share_s: float, *, mutation: bool, targets_left: int = 1) -> float:
        """What one target's search may take, of its ``share_s`` of the search budget, so the result is on
        time: the rest of the work set aside, shared by the targets still to search.

        Never less than half the share: under ~50 s of budget Pynguin's start-up alone is more than the
        fifth the wall leaves beside the search, and a search cut to nothing hands out nothing on time.
        """
        reserve = PYNGUIN_OVERHEAD_S + AFTER_SEARCH_S
        on_time = (self.left_s() - (MUTATION_MIN_S if mutation else 0.0)) / max(1, targets_left) - reserve
        return min(share_s, max(share_s / 2, on_time))

    def mutation_box_s(self, box_s: float) -> float:
        """The mutation score's time box: its own, cut to what is left before the due time (0: none left);
        never under ``MUTATION_MIN_S`` when the wall could not hold anyway (``holdable``)."""
        # The report and the result's write after it, and the time-boxed run's own stop: with 1 s tabulate's result
        # came 0.1 s past its due time.
        left = self.left_s() - 2.5
        if not self.holdable:
            return min(box_s, max(MUTATION_MIN_S, left))
        return max(0.0, min(box_s, left)) if left >= MUTATION_MIN_S / 2 else 0.0


def wall_spent_note() -> str:
    """Why a request has no mutation score when its time was spent before it (the result says it, not a blank)."""
    return (f"not measured: the request's time ({WALL_FACTOR}x its search time) was spent before it, so the "
            "distilled tests went out without being compared with the tests as generated on mutants; a longer "
            "search time leaves it time")
