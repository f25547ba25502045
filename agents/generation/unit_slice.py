"""The slice of distillation: the fewest units that still run every line and branch the file ran.

Split from agents/distil_step.py (the step that runs each rewrite); this is the set cover it runs off the loop.
"""

from __future__ import annotations

from agents.generation.observe import Observed
from agents.generation.test_units import Unit

# Lines and branches of the target files, as (path, line) and (path, (from, to)).
Cover = frozenset[tuple[str, int | tuple[int, int]]]


def fewest_units(units: list[Unit], observed: list[Observed | None], covers: list[Cover], need: Cover,
                 skip: set[int] | None = None) -> list[int]:
    """The fewest units that keep ``need``: largest gain first, shorter on a tie; plain units always stay.

    ``skip``: units decided elsewhere (typical calls).
    """
    skip = skip or set()
    keep = [i for i, u in enumerate(units) if i not in skip and (u.plain or observed[i] is None
                                                                 or not observed[i].passed)]
    have: set = set().union(*(covers[i] for i in keep)) if keep else set()
    left = [i for i in range(len(units)) if i not in keep and i not in skip]
    while True:
        best = max(left, key=lambda i: (len((covers[i] & need) - have), -len(units[i].body), -i), default=None)
        if best is None or not (covers[best] & need) - have:
            break
        keep.append(best)
        have |= covers[best]
        left.remove(best)
    return sorted(keep)
