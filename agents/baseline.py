"""What the repository's own tests cover: the one baseline both routes start from.

A QA engineer compares what the app says with their own coverage run: the
repository's tests (pytest, unittest TestCases, and doctests where its
configuration runs them) under coverage.py. Both routes measure that here,
the same way, in the sandbox; the request's union of coverage starts from
it (agents/coverage_union.py), so "with the generated ones" is the existing
tests and the kept tests together, and "target already met" is said only
with the figure that met it. Every target counts at its full size, also
one the existing tests never import (its 0 % is part of the figure).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from agents.coverage_union import CoverageUnion
from agents.generation.doctests import runs_doctests
from engine.results import parse_coverage
from engine.sandbox import SandboxLimits, clean_env, run_sandboxed

_LIMITS = SandboxLimits(timeout_s=300, memory_mb=2048)


async def existing_coverage(repo: Path, targets: list[str], tests: list[str], *, python: str,
                            allow_unisolated: bool) -> dict[str, Any] | None:
    """The targets' coverage by ``tests`` and, where the repository's pytest runs them, the targets' doctests
    (a union's JSON, every target sized); None when there is nothing to run or no data came back."""
    repo = await asyncio.to_thread(repo.resolve)  # the sandbox mounts real paths
    doctests = await asyncio.to_thread(runs_doctests, repo)
    if not tests and not doctests:
        return None
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-baseline-"))
    try:
        data = scratch / ".coverage"
        env = clean_env(scratch, {"PYTHONPATH": str(repo)})
        # The repository's addopts are cleared: a "--cov" there hands tracing to pytest-cov and our
        # measurement sees nothing (arrow 1.3.0: 0% instead of its real 45%). Its doctests stay in.
        doctest = ["--doctest-modules", *[str(repo / t) for t in targets]] if doctests else []
        await run_sandboxed(
            [python, "-m", "coverage", "run", "--branch", f"--data-file={data}", f"--source={repo}",
             "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(repo),
             *[str(repo / t) for t in tests], *doctest],
            python=python, cwd=scratch, limits=_LIMITS, env=env, readable=[repo],
            allow_unisolated=allow_unisolated,
        )
        if not await asyncio.to_thread(data.exists):
            return None
        out = scratch / "baseline.json"
        await run_sandboxed(
            [python, "-m", "coverage", "json", f"--data-file={data}", "-o", str(out), "-q",
             f"--include={','.join(str(repo / t) for t in targets)}"],
            python=python, cwd=scratch, limits=_LIMITS, env=env, readable=[repo],
            allow_unisolated=allow_unisolated,
        )
        report = await asyncio.to_thread(parse_coverage, out, repo)
        if report is None:
            return None
        union = await CoverageUnion.sized(repo, targets)
        union.add(report.to_json())
        return union.to_json() | {"measured": "the repository's own tests under coverage.py", "test_files": len(tests)}
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
