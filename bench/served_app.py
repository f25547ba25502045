"""``aiwebtest serve`` as a process of its own, for benches that drive the API as a client would.

Embedded PostgreSQL and Redis in the given data dir (URLs from the
environment are dropped), any free port; the API's URL is read from the
start line and its token from ``aiwebtest api-token``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[str]
    url: str
    token: str


@contextlib.asynccontextmanager
async def served(data: Path, **env_vars: str) -> AsyncIterator[Served]:
    """The app serving from ``data`` with ``env_vars`` set; stopped (SIGTERM, then SIGKILL after 60 s) on exit."""
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data), "AIWEBTEST_API_PORT": "0", **env_vars}
    for name in ("POSTGRES_URL", "REDIS_STREAMS_URL"):
        env.pop(name, None)
    app = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert app.stdout is not None
        line = await asyncio.to_thread(app.stdout.readline)
        url = line.split("api ", 1)[1].split(";", 1)[0].strip()
        token = subprocess.run([sys.executable, "-m", "app.cli", "api-token"], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=True).stdout.strip()
        yield Served(app, url, token)
    finally:
        app.terminate()
        try:
            await asyncio.to_thread(app.wait, 60)
        except subprocess.TimeoutExpired:
            app.kill()
