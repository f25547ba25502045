"""Probe files for a worker in a container: ``ready`` while every agent takes work, ``alive`` while the loop turns.

Kubernetes asks two questions (deploy/k8s/): is the pod ready for work, and
is it alive. An agent worker has no HTTP port to ask, so it answers with
two files in ``--probe-dir``, refreshed every ``EVERY_S``; the probes run
``python -m app.probe_file FILE MAX_AGE`` (standard library only: a probe
every few seconds must not import the app).

* ``ready``: every agent of the process is registered and both stores took
  its last heartbeat within its TTL (``AgentWorker.taking_work``). Removed
  at once on SIGTERM, before the drain, so no new work is routed here.
* ``alive``: the event loop turned. A store outage makes the pod unready,
  never dead: restarting every worker while PostgreSQL restarts helps no one.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from agents.worker import AgentWorker

EVERY_S = 2.0
READY, ALIVE = "ready", "alive"


class ProbeFiles:
    def __init__(self, folder: Path, workers: list[AgentWorker]) -> None:
        self.folder, self.workers = folder, workers
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep(), name="probe-files")

    async def stop_taking_work(self) -> None:
        """SIGTERM: unready at once (the drain and lease hand-back follow in the host's shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(_remove, self.folder / READY)

    async def _keep(self) -> None:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        while True:
            ready = bool(self.workers) and all(w.taking_work for w in self.workers)
            await asyncio.to_thread(_mark, self.folder, ready)
            await asyncio.sleep(EVERY_S)


def _mark(folder: Path, ready: bool) -> None:
    (folder / ALIVE).touch()
    if ready:
        (folder / READY).touch()
    else:
        _remove(folder / READY)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
