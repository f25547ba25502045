"""Who uses the embedded servers of a data dir: one file per process in ``run/users``.

Entries are named ``<pid>.<token>`` (two managers in one process are two
users). Shared by ``ServiceManager`` (the last to leave stops the servers)
and the services watchdog (stops them when every user died without leaving).
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from app.proc import process_alive


def process_started_at(pid: int) -> float:
    """When ``pid`` started, in seconds after boot (0.0 if it is gone): with the pid, it names one process for good.

    Counted from boot (``/proc/<pid>/stat`` start ticks), not from the wall clock: psutil's
    ``create_time`` is boot time plus those ticks, and boot time is derived from the wall clock, so a
    clock jump (a VM paused and resumed, seen twice here in one afternoon as "virtual machine fork")
    moved every process's start by the jump, every user of the servers looked like a stranger on a
    reused pid, and the watchdogs stopped every embedded PostgreSQL at once.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    try:
        return psutil.Process(pid).create_time()  # not Linux: the wall clock is what there is
    except psutil.Error:
        return 0.0


def live_users(users_dir: Path) -> list[int]:
    """Pids of live users; entries of dead processes are removed on the way.

    An entry records its process's start time: a pid now held by another process (reused) is a dead
    user, not a live one. Entries without it (older versions) fall back to the pid alone.
    """
    alive = []
    for entry in users_dir.iterdir() if users_dir.exists() else []:
        head = entry.name.split(".", 1)[0]
        pid = int(head) if head.isdigit() else 0
        try:
            recorded = float(entry.read_text().strip() or 0)
        except (OSError, ValueError):
            recorded = 0.0
        same = not recorded or abs(process_started_at(pid) - recorded) < 1.0
        if pid and process_alive(pid) and same:
            alive.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return alive
