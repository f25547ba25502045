"""Phase 2 without the store: the engine's sandboxed pytest run, answered as the agents read it.

For tests of what runs on Phase 2's answers (agents/distil_step.py) that do
not need the executions table; the sandbox, coverage and JUnit report are
the real ones.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from engine.engine import _outcome
from engine.pytest_run import RunSpec, run_pytest
from engine.sandbox import SandboxLimits


class SandboxPhase2:
    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self.runs = 0

    async def execute(self, test_code: str, repository: Path | None, target_files: list[str],
                      strategy: str = "tier1_only", *, each_alone: bool = False) -> dict[str, Any]:
        self.runs += 1
        run = await run_pytest(RunSpec(test_code, self.python, SandboxLimits(60, 1024), repository,
                                       tuple(target_files), heal_mode="off", each_alone=each_alone))
        return {"status": run.status, "error": run.message, "tests": [_outcome(o) for o in run.outcomes],
                "coverage": run.coverage.to_json() if run.coverage else None, "per_test_coverage": run.per_test}
