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
from pathlib import Path

ORCHESTRATION_PER_CORE = 32
LIGHT_PER_CORE = 4


def cores() -> int:
    """CPUs this process may use: the affinity mask, and a cgroup v2 CPU quota below it (a pod's CPU limit:
    a worker limited to 2 CPUs on a 64-core node saw 64 and ran 5 CPU-bound tasks on 2 CPUs' worth of time)."""
    try:
        n = max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        n = max(os.cpu_count() or 1, 1)
    quota = cgroup_cpu_quota()
    return max(1, min(n, int(quota))) if quota is not None else n


def cgroup_cpu_quota(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> float | None:
    """CPUs' worth of time the cgroup allows (``cpu.max`` "200000 100000" is 2.0); None without a limit.
    Read once per call at start-up, a small file."""
    try:
        fields = cpu_max.read_text().split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        return int(fields[0]) / int(fields[1])
    except (ValueError, ZeroDivisionError):
        return None


def slots(agent_type: str, max_concurrent_tasks: int, n_cores: int | None = None) -> int:
    n = n_cores or cores()
    if agent_type == "orchestration":
        return ORCHESTRATION_PER_CORE * n
    if agent_type == "evolution":
        return max(1, min(max_concurrent_tasks, n))
    return LIGHT_PER_CORE * n
