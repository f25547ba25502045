"""The ``search`` strategy: Pynguin in a subprocess, in a virtual env of its own.

Pynguin lives in ``DATA/tools/pynguin-<version>`` (agents/generation/tool_venv.py),
installed there on first use. It runs sandboxed like any untrusted code (it imports
and executes the code under test). A crash is a strategy failure
(``StrategyError``), never a request failure by itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from pathlib import Path

from agents.generation import Candidate, StrategyError, module_of, test_file_header
from agents.generation.example_seeds import example_seed_tests
from agents.generation.readme_examples import readmes
from agents.generation.tidy import tidy
from agents.generation.tool_venv import ToolVenv, site_hook
from agents.generation.typical_calls import search_seeds
from engine.sandbox import SandboxLimits, clean_env, run_sandboxed
from engine.tool_text import clean

PYNGUIN_VERSION = "0.48.0"

log = logging.getLogger(__name__)

# What Pynguin 0.48 logs when the module under test does not import (generator.py, _load_sut / _import_sut).
_SETUP_FAILED = re.compile(r"Failed to (?:load|import|reload) SUT")


class _SearchCrashed(StrategyError):
    """Pynguin ended without tests after the module imported: worth one more seed."""


class PynguinRunner:
    def __init__(self, tools_dir: Path, *, python: str | None = None, version: str = PYNGUIN_VERSION) -> None:
        self.tool = ToolVenv(tools_dir, "pynguin", version, python=python)
        self.version = version

    @property
    def python(self) -> Path:
        return self.tool.python

    @property
    def venv(self) -> Path:
        return self.tool.venv

    async def ensure_installed(self) -> Path:
        return await self.tool.ensure_installed()

    async def generate(self, repository: Path, target_file: str, *, search_time_s: int, seed: int,
                       allow_unisolated: bool = False, site_packages: Path | None = None,
                       algorithm: str = "DYNAMOSA", raw: bool = False, seeded: bool = True,
                       in_process: bool = True) -> Candidate:
        """One Pynguin run on ``target_file``.

        ``site_packages`` (the repository's environment, engine/repo_env.py) is
        appended to Pynguin's path by a ``sitecustomize``: after Pynguin's own
        packages, so the repository's pytest cannot replace the one it pins.

        A crash during the search depends on the inputs Pynguin happened to
        draw (an ``OverflowError`` came up in 3 of 361 soak requests), so it is
        tried once more with another seed and half the search time (the
        request's search budget is not to be doubled), and without the typical
        calls as seeds (agents/generation/typical_calls.py search_seeds), in
        case they were what it tripped on. A module that does not
        import, or a run out of time, is not retried: it would end the same way.

        ``in_process``: Pynguin runs each test in its own process when the module uses a C extension
        (even the standard library's ``keyword``, as ``tabulate`` does); the sandbox already isolates the
        whole run, and in-process Pynguin searched 45 generations of ``tabulate`` in 10 s where the
        subprocess mode searched 20 (coverage 0.24 against 0.17, measured). The retry after a crash
        goes back to Pynguin's own choice, in case an extension was what crashed. False: Pynguin's
        defaults throughout (bench/generation.py's Pynguin alone).

        The retry also asks for no assertions: on ``bidict._base`` Pynguin's worker died while generating
        them, after the search had used its time, and Pynguin then restarts nothing and writes nothing (0
        tests in both attempts, where Pynguin alone kept 27). Distillation writes each kept test's assertions
        from the values the calls were seen to return (agents/distil_step.py), so the search's tests are
        what counts; ``raw`` (as Pynguin wrote them, for the bench) keeps Pynguin's own.
        """
        attempts = ((seed, search_time_s), (seed + 1, max(1, search_time_s // 2)))
        for number, (attempt_seed, attempt_s) in enumerate(attempts):
            try:
                return await self._generate_once(repository, target_file, search_time_s=attempt_s, seed=attempt_seed,
                                                 allow_unisolated=allow_unisolated, site_packages=site_packages,
                                                 algorithm=algorithm, raw=raw, seeded=seeded and number == 0,
                                                 in_process=in_process and number == 0,
                                                 assertions="SIMPLE" if number == 0 or raw else "NONE")
            except _SearchCrashed as exc:
                if number == len(attempts) - 1:
                    raise StrategyError(f"{exc} (twice, with seeds {seed} and {seed + 1})") from None
                log.info("%s; trying once more with seed %d", exc, seed + 1)
        raise AssertionError("unreachable")

    @staticmethod
    async def _seeds(repository: Path, target_file: str, module: str, scratch: Path) -> list[str]:
        """Pynguin's arguments to seed its first population with typical calls and the calls the module's
        docstrings and README show (agents/generation/example_seeds.py); none when there are none."""
        def write() -> list[str]:
            try:
                source = (repository / target_file).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                return []
            readme_texts = []
            for readme in readmes(repository):
                try:
                    readme_texts.append(readme.read_text("utf-8", errors="replace"))
                except OSError:
                    continue
            examples = example_seed_tests(source, module, readme_texts)
            code = search_seeds(source, module)
            if examples:
                code = (code or f"import {module} as module_0\n") + "\n\n" + "\n\n".join(examples)
            if code is None:
                return []
            seeds = scratch / "seeds"
            seeds.mkdir()
            (seeds / f"test_{module.rsplit('.', 1)[-1]}_seeds.py").write_text(code, "utf-8")
            return ["--initial_population_seeding", "True", "--initial_population_data", str(seeds)]

        return await asyncio.to_thread(write)

    async def _generate_once(self, repository: Path, target_file: str, *, search_time_s: int, seed: int,
                             allow_unisolated: bool, site_packages: Path | None, algorithm: str,
                             raw: bool, seeded: bool, in_process: bool, assertions: str = "SIMPLE") -> Candidate:
        python = await self.ensure_installed()
        root, module = module_of(target_file)
        repository = await asyncio.to_thread(repository.resolve)  # the sandbox mounts real paths
        project = repository / root if root else repository
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-pynguin-"))
        out = scratch / "out"
        extra_env = {"PYNGUIN_DANGER_AWARE": "1", **await site_hook(scratch, site_packages)}
        seeding = await self._seeds(repository, target_file, module, scratch) if seeded else []
        readable = [repository, *([site_packages] if site_packages is not None else [])]
        try:
            result = await run_sandboxed(
                [str(python), "-m", "pynguin", "--project-path", str(project), "--output-path", str(out),
                 "--module-name", module, "--maximum-search-time", str(search_time_s),
                 "--assertion-generation", assertions, "--seed", str(seed), "--create-coverage-report", "False",
                 "--algorithm", algorithm, *seeding,
                 *(["--subprocess_if_recommended", "False"] if in_process else [])],
                python=str(python), cwd=scratch,
                limits=SandboxLimits(timeout_s=search_time_s + 120, memory_mb=4096),
                env=clean_env(scratch, extra_env),
                readable=readable, allow_unisolated=allow_unisolated,
            )
            files = sorted(out.glob("test_*.py")) if out.exists() else []
            if not files:
                output = result.stderr or result.stdout
                tail = [line for line in (clean(x) for x in output.splitlines()) if line]
                reason = "timed out" if result.timed_out else f"exit {result.returncode}: {clean(' '.join(tail[-3:]), 400)}"
                message = f"Pynguin produced no tests for {module} ({reason})"
                if result.timed_out or _SETUP_FAILED.search(output):
                    raise StrategyError(message)
                raise _SearchCrashed(message)
            body = await asyncio.to_thread(files[0].read_text)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        body = re.sub(r"^#  This file was automatically generated using Pynguin\.\n", "", body, flags=re.M)
        if not raw:  # raw: as Pynguin wrote it (bench/generation.py compares against that)
            body = await asyncio.to_thread(tidy, body)  # tests a person keeps (agents/generation/tidy.py)
        return Candidate(target_file, test_file_header(target_file, "search: Pynguin") + body, "search")
