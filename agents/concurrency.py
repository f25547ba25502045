"""How many tasks of each agent type one process runs at once, sized from the machine.

A fixed 5 for every type (issue 12) let only 5 requests be orchestrated at
a time while the cores idled: an orchestration task only waits on its
children. What costs CPU is evolution (pytest runs, Pynguin, CrossHair),
so that is what the cores bound; ``max_concurrent_tasks`` (Settings) caps
it further. The light steps (observe, requirements, analyze, report) do
short I/O and parsing off the loop, a few per core. Work beyond the slots
waits in the stream in arrival order (a consumer group hands out entries
first in, first out), and the v2 status reports its place there.
"""

from __future__ import annotations

import os

ORCHESTRATION_PER_CORE = 32
LIGHT_PER_CORE = 4


def cores() -> int:
    """CPUs this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def slots(agent_type: str, max_concurrent_tasks: int, n_cores: int | None = None) -> int:
    n = n_cores or cores()
    if agent_type == "orchestration":
        return ORCHESTRATION_PER_CORE * n
    if agent_type == "evolution":
        return max(1, min(max_concurrent_tasks, n))
    return LIGHT_PER_CORE * n
