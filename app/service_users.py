"""Who uses the embedded servers of a data dir: one file per process in ``run/users``.

Entries are named ``<pid>.<token>`` (two managers in one process are two
users). Shared by ``ServiceManager`` (the last to leave stops the servers)
and the services watchdog (stops them when every user died without leaving).
"""

from __future__ import annotations

from pathlib import Path

import psutil

from app.proc import process_alive


def process_started_at(pid: int) -> float:
    """When ``pid`` started (0.0 if it is gone): with the pid, it names one process for good."""
    try:
        return psutil.Process(pid).create_time()
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
