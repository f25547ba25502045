"""Who uses the embedded servers of a data dir: one file per process in ``run/users``.

Entries are named ``<pid>.<token>`` (two managers in one process are two
users). Shared by ``ServiceManager`` (the last to leave stops the servers)
and the services watchdog (stops them when every user died without leaving).
"""

from __future__ import annotations

from pathlib import Path

from app.proc import process_alive


def live_users(users_dir: Path) -> list[int]:
    """Pids of live users; entries of dead processes are removed on the way."""
    alive = []
    for entry in users_dir.iterdir() if users_dir.exists() else []:
        head = entry.name.split(".", 1)[0]
        pid = int(head) if head.isdigit() else 0
        if pid and process_alive(pid):
            alive.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return alive
