"""The repository a step works on, on this machine: the observation step's checkout, or the same one made here.

On one machine every agent shares the data dir, and the folder the
observation step checked the repository out to is there for the others. In
a cluster (deploy/k8s/) each agent pod has its own disk: the analysis or
evolution pod gets a path that does not exist where it runs. It then checks
the same URL out into the same place under its own workspace (a shallow
clone of the branch's head, as the observation step did), and builds the
repository's environment here when the interpreter it was given is not on
this machine either. Found with ``make deploy-try``: "… is not a valid
project path" from Pynguin in the evolution pod.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.base import Services
from agents.observation import checkout, is_git_url


async def repository_here(path: str | Path, url: str | None, services: Services) -> Path:
    folder = Path(path)
    if await asyncio.to_thread(folder.is_dir):
        return folder
    if url and is_git_url(url):
        cloned, _ = await checkout(url, Path(services.workspace))
        return cloned
    return folder  # a local folder of another machine: the step says it is missing, as before


async def interpreter_here(interpreter: str | None, repository: Path, services: Services) -> str | None:
    """``interpreter`` if this machine has it; else the repository's environment built here (or None: ours)."""
    if interpreter is None or await asyncio.to_thread(Path(interpreter).exists):
        return interpreter
    if services.envs is None:
        return None
    env = await services.envs.environment_for(repository)
    return str(env.python) if env is not None else None
