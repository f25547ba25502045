"""A cgroup per sandboxed run, where the machine lets us make one.

rlimits are per process: ``RLIMIT_DATA`` ignores shared mappings (a 1.5 GB
``MAP_SHARED`` got past a 1 GB cap) and ``RLIMIT_AS`` kills Chromium at
start. A memory cgroup charges every page the run's processes touch,
shared or not, and a pids cgroup stops a fork bomb at a count. Making
cgroups needs write access to the hierarchy (root, or a delegated v2
subtree); without it the sandbox falls back to rlimits and says so.

Checked here (cgroup v1, root): a process that touched 600 MB of a shared
mapping under a 256 MB memory cgroup was killed.
"""

from __future__ import annotations

import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_V1 = Path("/sys/fs/cgroup")
_PREFIX = "aiwebtest-run-"


@functools.cache
def cgroup_mode() -> str | None:
    """"cgroup v1 (memory, pids)", "cgroup v2 (memory, pids)", or None when we may not make cgroups."""
    if _v2_root() is not None:
        return "cgroup v2 (memory, pids)"
    if all(os.access(_V1 / c, os.W_OK) for c in ("memory", "pids")):
        return "cgroup v1 (memory, pids)"
    return None


def _v2_root() -> Path | None:
    root = _V1
    controllers = root / "cgroup.controllers"
    if not controllers.exists() or not os.access(root, os.W_OK):
        return None
    try:
        if not {"memory", "pids"} <= set(controllers.read_text().split()):
            return None
        enabled = set((root / "cgroup.subtree_control").read_text().split())
        if not {"memory", "pids"} <= enabled:
            (root / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError:
        return None
    return root


@dataclass
class RunCgroup:
    """The cgroup directories of one run; the launcher writes its pid into ``procs_files``."""

    dirs: list[Path]

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_killed(self) -> bool:
        """True if the kernel killed a process of this run for memory (v2 memory.events, v1 oom_control)."""
        for d in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    lines = (d / name).read_text().splitlines()
                except OSError:
                    continue
                for line in lines:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                        return True
        return False

    def remove(self) -> None:
        """Kill what is left in the cgroups, then remove them (blocking; call from a thread)."""
        for d in self.dirs:
            for _ in range(50):
                try:
                    pids = [int(p) for p in (d / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while the last killed process is still exiting
                    time.sleep(0.02)


@functools.cache
def _sweep_stale() -> None:
    """Remove empty run cgroups a crashed process left (once per process).

    Only those older than a minute: another process's run makes its cgroup
    empty and joins it a moment later.
    """
    old_enough = time.time() - 60
    for parent in (_V1, _V1 / "memory", _V1 / "pids"):
        for stale in parent.glob(_PREFIX + "*"):
            try:
                if stale.stat().st_mtime < old_enough and not (stale / "cgroup.procs").read_text().strip():
                    stale.rmdir()
            except OSError:
                pass


def make_run_cgroup(memory_mb: int, max_processes: int) -> RunCgroup | None:
    """New cgroups capping memory and process count; None where we may not make them (blocking)."""
    mode = cgroup_mode()
    if mode is None:
        return None
    _sweep_stale()
    name = _PREFIX + uuid.uuid4().hex[:12]
    made: list[Path] = []
    try:
        if mode.startswith("cgroup v2"):
            d = _V1 / name
            d.mkdir()
            made.append(d)
            if memory_mb:
                (d / "memory.max").write_text(str(memory_mb * 1024 * 1024))
                if (d / "memory.swap.max").exists():
                    (d / "memory.swap.max").write_text("0")
            (d / "pids.max").write_text(str(max_processes))
        else:
            mem = _V1 / "memory" / name
            mem.mkdir()
            made.append(mem)
            if memory_mb:
                (mem / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
            pids = _V1 / "pids" / name
            pids.mkdir()
            made.append(pids)
            (pids / "pids.max").write_text(str(max_processes))
    except OSError:
        RunCgroup(made).remove()
        return None
    return RunCgroup(made)
