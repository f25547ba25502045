"""How agents reach the Phase 2 engine: in-process, or over HTTP.

The spec's Evolution agent POSTs to ``/api/v1/execute``; with
``PHASE2_API_URL`` set that is exactly what happens. Without it, the
engine of this process is called directly: the same code, without the
HTTP hop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import httpx

from engine.errors import AppError


class Phase2(Protocol):
    """``each_alone``: each test in a process of its own (agents/test_order.py's check that none needs another)."""

    async def execute(self, test_code: str, repository: Path | None, target_files: list[str],
                      strategy: str = "tier1_only", *, each_alone: bool = False) -> dict[str, Any]: ...


class InProcessPhase2:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    async def execute(self, test_code: str, repository: Path | None, target_files: list[str],
                      strategy: str = "tier1_only", *, each_alone: bool = False) -> dict[str, Any]:
        from engine.engine import ExecuteRequest
        from engine.execution import execution_json

        execution = await self.engine.execute(ExecuteRequest(
            test_code=test_code, strategy=strategy, repository=repository, target_files=tuple(target_files),
            each_alone=each_alone))
        return execution_json(execution)


class HttpPhase2:
    """Phase 2 over HTTP; ``token`` is that API's bearer token."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 900.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {token}"}

    async def execute(self, test_code: str, repository: Path | None, target_files: list[str],
                      strategy: str = "tier1_only", *, each_alone: bool = False) -> dict[str, Any]:
        body = {"test_code": test_code, "execution_strategy": strategy, "target_files": target_files,
                "repository_path": str(repository) if repository else None, "each_test_alone": each_alone}
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            response = await client.post(f"{self.base_url}/api/v1/execute", json=body, headers=self._headers)
        if response.status_code != 200:
            raise AppError(f"Phase 2 API at {self.base_url} answered {response.status_code}: {response.text[:300]}")
        return response.json()
