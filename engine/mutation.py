"""Mutation score of a test suite, with mutmut, in the sandbox, within a time box.

Coverage says which lines ran; a mutation score says whether the tests
would notice those lines being wrong. mutmut (3.x) was chosen over
cosmic-ray: it needs no session database or worker set-up, mutates with
libcst, records each mutant's exit code in ``mutants/*.meta`` (plain
JSON we read without importing it), and installs in about a second. It
runs on a scratch copy of the repository with the suite written under
``tests/_aiwebtest/``, inside the sandbox (it imports and runs the code).

Score = killed / all mutants; a mutant no test reaches counts as
surviving (mutmut's exit 33), a mutant that times out counts as killed
(the suite noticed it, by hanging).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine.interpreter import pytest_plugin_env
from engine.sandbox import SandboxLimits, clean_env, run_sandboxed

SUITE_DIR = "tests/_aiwebtest"
_KILLED = {1, 3, -24, 24, 36, 152}  # tests failed; time-outs and segfaults count as noticed
_NO_TESTS = 33


@dataclass(frozen=True)
class MutationScore:
    killed: int
    survived: int
    no_tests: int
    total: int
    duration_s: float
    timed_out: bool = False
    error: str | None = None
    # Each mutant mutmut finished, by its key: "killed", "survived" or "no_tests". Two suites are compared on
    # the mutants both finished (a time box can end them at different places).
    outcomes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def score(self) -> float | None:
        return self.killed / self.total if self.total else None

    def killed_of(self, keys: set[str]) -> int:
        return sum(1 for k in keys if self.outcomes.get(k) == "killed")

    def to_json(self) -> dict[str, object]:
        return {"score": self.score, "killed": self.killed, "survived": self.survived, "no_tests": self.no_tests,
                "total": self.total, "duration_s": round(self.duration_s, 2), "timed_out": self.timed_out,
                "error": self.error}


async def mutation_score(repository: Path, targets: list[str], suite: dict[str, str], *, python: str,
                         time_box_s: float = 120.0, allow_unisolated: bool = False) -> MutationScore:
    """Run mutmut over ``targets`` with ``suite`` (test file name -> code); never raises for the suite's sake."""
    started = time.perf_counter()
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-mutation-"))
    try:
        work = scratch / "repo"
        await asyncio.to_thread(_prepare, repository, work, targets, suite)
        result = await run_sandboxed(
            [python, "-m", "mutmut", "run"], python=python, cwd=work,
            limits=SandboxLimits(timeout_s=time_box_s, memory_mb=2048),
            env=clean_env(scratch, {"TERM": "dumb", **pytest_plugin_env(python)}),
            allow_unisolated=allow_unisolated,
        )
        outcomes = await asyncio.to_thread(_read_meta, work / "mutants")
        elapsed = time.perf_counter() - started
        if not outcomes:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            why = "timed out before any result" if result.timed_out else tail[0][-300:]
            return MutationScore(0, 0, 0, 0, elapsed, result.timed_out, f"mutmut gave no result: {why}")
        count = {kind: sum(1 for v in outcomes.values() if v == kind) for kind in ("killed", "survived", "no_tests")}
        return MutationScore(count["killed"], count["survived"], count["no_tests"], len(outcomes), elapsed,
                             result.timed_out, outcomes=outcomes)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


def _prepare(repository: Path, work: Path, targets: list[str], suite: dict[str, str]) -> None:
    shutil.copytree(repository, work, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "venv", "mutants", "__pycache__", ".tox"))
    # Our configuration only: the repository's own may point mutmut or pytest elsewhere.
    for name in ("setup.cfg", "pyproject.toml", "pytest.ini", ".pytest.ini", "tox.ini", "conftest.py"):
        (work / name).unlink(missing_ok=True)
    for name, code in suite.items():
        path = work / SUITE_DIR / Path(name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
    # mutmut copies only the mutated files into its mutants/ tree: the rest of their package (string_utils'
    # errors.py beside manipulation.py) must be copied too, or the suite cannot import it (bench/readability.py).
    packages = sorted({"/".join(PurePosixPath(t).parts[:2 if PurePosixPath(t).parts[0] == "src" else 1])
                       for t in targets if len(PurePosixPath(t).parts) > (2 if t.startswith("src/") else 1)})
    (work / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        f"source_paths = {json.dumps(targets)}\n"
        f"also_copy = {json.dumps(packages)}\n"
        f'pytest_add_cli_args_test_selection = ["{SUITE_DIR}/"]\n'
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
    )


def _read_meta(mutants: Path) -> dict[str, str]:
    """Each finished mutant's outcome, by its key (mutmut's ``exit_code_by_key`` in ``mutants/*.meta``)."""
    outcomes: dict[str, str] = {}
    for meta in mutants.rglob("*.meta"):
        try:
            codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        except (OSError, ValueError):
            continue
        if not isinstance(codes, dict):
            continue
        for key, code in codes.items():
            if code is None:
                continue
            outcomes[str(key)] = "no_tests" if code == _NO_TESTS else "killed" if code in _KILLED else "survived"
    return outcomes
