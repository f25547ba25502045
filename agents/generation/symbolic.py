"""The ``crosshair`` generator: CrossHair's ``cover`` (symbolic execution) writes pytest tests.

Where Pynguin's random search needs luck to hit ``if version.prerelease
and not other.prerelease``, CrossHair asks an SMT solver for inputs that
reach each opcode, and writes them out as tests with the exception each
one raised (``pytest.raises(ValueError, match=...)``). It lives in its own
venv under ``DATA/tools`` (z3 is large) and runs sandboxed like Pynguin:
it imports and runs the code under test. The per-function driver is
agents/generation/crosshair_driver.py, copied into the run's scratch folder.
"""

from __future__ import annotations

import ast
import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from agents.generation import Candidate, StrategyError, module_of, test_file_header
from agents.generation.crosshair_idioms import as_constructions
from agents.generation.tool_venv import ToolVenv, site_hook
from engine.python_source import parse_source
from engine.sandbox import SandboxLimits, clean_env, run_sandboxed
from engine.tool_text import clean

CROSSHAIR_VERSION = "0.0.113"
_DRIVER = Path(__file__).with_name("crosshair_driver.py")


def functions_of(source: str) -> list[str]:
    """Qualified names CrossHair can cover: module functions and methods of module classes.

    Properties and dunders other than ``__init__`` are left out: CrossHair
    finds no path through a property, and operators are reached through
    the methods that use them.
    """
    def wanted(node: ast.AST) -> bool:
        if not isinstance(node, ast.FunctionDef):  # CrossHair does not cover coroutines
            return False
        if node.name.startswith("__") and node.name != "__init__":
            return False
        return not any("property" in ast.unparse(d) or ast.unparse(d).endswith((".setter", ".getter", ".deleter"))
                       or "overload" in ast.unparse(d) for d in node.decorator_list)

    names: list[str] = []
    for node in parse_source(source).body:
        if wanted(node):
            names.append(node.name)  # type: ignore[attr-defined]
        elif isinstance(node, ast.ClassDef):
            names.extend(f"{node.name}.{c.name}" for c in node.body if wanted(c))  # type: ignore[attr-defined]
    return list(dict.fromkeys(names))


class CrossHairRunner:
    def __init__(self, tools_dir: Path, *, python: str | None = None, version: str = CROSSHAIR_VERSION) -> None:
        self.tool = ToolVenv(tools_dir, "crosshair", version, package="crosshair-tool", python=python)

    async def generate(self, repository: Path, target_file: str, *, search_time_s: float, workers: int = 1,
                       allow_unisolated: bool = False, site_packages: Path | None = None) -> Candidate:
        """Tests for the target's functions within ``search_time_s`` (StrategyError when none)."""
        python = await self.tool.ensure_installed()
        root, module = module_of(target_file)
        repository = await asyncio.to_thread(repository.resolve)
        source = await asyncio.to_thread((repository / target_file).read_text, "utf-8", "replace")
        try:
            functions = await asyncio.to_thread(functions_of, source)
        except SyntaxError as exc:
            raise StrategyError(f"{target_file} does not parse: line {exc.lineno}: {exc.msg}") from None
        if not functions:
            raise StrategyError(f"CrossHair: {target_file} has no functions to cover")
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-crosshair-"))
        try:
            await asyncio.to_thread(shutil.copy, _DRIVER, scratch / "driver.py")
            spec = {"module": module, "functions": functions, "seconds": search_time_s, "workers": workers,
                    "project": str(repository / root if root else repository)}
            await asyncio.to_thread((scratch / "spec.json").write_text, json.dumps(spec))
            readable = [repository, *([site_packages] if site_packages is not None else [])]
            result = await run_sandboxed(
                [str(python), str(scratch / "driver.py"), str(scratch / "spec.json")],
                python=str(python), cwd=scratch,
                limits=SandboxLimits(timeout_s=search_time_s + 60, memory_mb=4096),
                env=clean_env(scratch, await site_hook(scratch, site_packages)),
                readable=readable, allow_unisolated=allow_unisolated,
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        if result.returncode != 0 or "def test_" not in result.stdout:
            tail = (result.stderr.strip().splitlines() or ["no output"])[-3:]
            reason = "timed out" if result.timed_out else clean("; ".join(tail), 400)
            raise StrategyError(f"CrossHair produced no tests for {module} ({reason})")
        code = await asyncio.to_thread(as_constructions, result.stdout)  # C(a).__init__(b) reads C(b)
        return Candidate(target_file, test_file_header(target_file, "crosshair cover") + code, "crosshair")
