"""What the Generate view does with a result's tests: outline them, run them, save them.

Separate from ``GenerationService`` (which makes results) because these
only read a result the user has on screen; the paths inside it are the
service's to check (``save_tests`` keeps every write inside the folder).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app import save_tests
from app.save_tests import SaveTarget
from app.test_outline import FileOutline, outline
from engine.engine import ExecuteRequest, ExecutionEngine
from engine.errors import AppError


class TestResultsService:
    __test__ = False  # a service, not a pytest class

    def __init__(self, engine: ExecutionEngine | None) -> None:
        self.engine = engine

    async def test_outline(self, result: dict[str, Any]) -> list[FileOutline]:
        """The result's tests grouped by the function they call, with its coverage (reads files: a thread)."""
        return await asyncio.to_thread(outline, result)

    async def run_tests(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        """Run the generated tests as they are (tier 1 only), in the sandbox, on the repository: per file,
        its status and each test's outcome."""
        if self.engine is None:
            raise AppError("The execution engine is not running in this process.")
        if not result.get("repository"):  # app/generation.py took it out: the row named another machine's folder
            raise AppError(result.get("repository_note") or "The result names no repository; load it again to run "
                           "the tests.")
        repo = Path(result["repository"])
        if not await asyncio.to_thread(repo.is_dir):
            raise AppError(f"The repository {repo} is not on this machine any more; load it again to run the tests.")
        targets = tuple(f["path"] for f in result.get("coverage_by_file") or [])
        out = []
        for name, code in (result.get("files") or {}).items():
            if Path(name).name == "conftest.py":
                continue  # support, not tests: the engine puts the repository on the path itself
            execution = await self.engine.execute(ExecuteRequest(code, "tier1_only", repo, targets))
            out.append({"file": name, "status": execution.status, "tests": execution.outcomes,
                        "error": execution.error})
        return out

    async def plan_save(self, folder: Path, files: dict[str, str]) -> list[SaveTarget]:
        return await asyncio.to_thread(save_tests.plan, folder, files)

    async def write_tests(self, targets: list[SaveTarget], overwrite: bool) -> list[Path]:
        return await asyncio.to_thread(lambda: save_tests.write(targets, overwrite=overwrite))
