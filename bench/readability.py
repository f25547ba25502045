"""Would a reviewer keep the tests? Pynguin alone, the product before distillation, and after it.

Run by hand: ``.venv/bin/python bench/readability.py [--budget 30] [--only NAME] [--extra PKG==V:MODULE]``.

For each corpus module (``../shared/bench/corpus-dev.txt``, fetched and
unpacked as bench/generation.py does, plus ``--extra`` packages), two
Pynguin runs (seed 42, the budget in seconds each) give three files:

* **pynguin**: Pynguin alone, unseeded, as it wrote its tests;
* **before**: Pynguin as the product runs it (its first population seeded
  with typical calls, agents/generation/typical_calls.py), tidied
  (agents/generation/tidy.py) and its failing tests cut, as kept until now;
* **after**: that file distilled (agents/distil_step.py).

Each file is measured by agents/generation/readability.py (tests,
statements per test, placeholder names, longest literal, share of tests
that assert, unused names, duplicate imports, misnamed tests) and run in
the sandbox for line and branch coverage and a time-boxed mutation score
(mutmut). The table ends with the targets of issue 25 checked on the
"after" column.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.distil_step import Distiller  # noqa: E402
from agents.generation.readability import Readability, measure  # noqa: E402
from agents.generation.search import PynguinRunner  # noqa: E402
from agents.generation.tidy import tidy  # noqa: E402
from agents.keep_per_test import keep_only, passing  # noqa: E402
from agents.mutation_gate import AS_WRITTEN, TARGET, gate  # noqa: E402
from bench.generation import DEFAULT_CORPUS, corpus, fetch, target_of  # noqa: E402
from engine.engine import _outcome  # noqa: E402
from engine.mutation import MutationScore, mutation_score  # noqa: E402
from engine.pytest_run import RunSpec, run_pytest  # noqa: E402
from engine.repo_env import RepoEnvironments  # noqa: E402
from engine.sandbox import SandboxLimits  # noqa: E402


class SandboxPhase2:
    """The engine's sandboxed pytest run without the store: what the agents' Phase 2 call returns."""

    def __init__(self, python: str) -> None:
        self.python = python

    async def execute(self, test_code: str, repository: Path | None, target_files: list[str],
                      strategy: str = "tier1_only") -> dict[str, Any]:
        run = await run_pytest(RunSpec(test_code, self.python, SandboxLimits(120, 2048), repository,
                                       tuple(target_files), heal_mode="off"))
        return {"status": run.status, "error": run.message, "tests": [_outcome(o) for o in run.outcomes],
                "coverage": run.coverage.to_json() if run.coverage else None, "per_test_coverage": run.per_test}


@dataclass
class Row:
    module: str
    variant: str
    look: Readability
    line: float
    branch: float
    mutation: float | None
    long_reason: bool = False  # the file says why each literal over 80 characters stays (a test docstring)


async def coverage_of(phase2: SandboxPhase2, code: str, repo: Path, target: str) -> tuple[float, float]:
    run = await phase2.execute(code, repo, [target])
    cov = run.get("coverage") or {}
    return float(cov.get("line_rate", 0.0)), float(cov.get("branch_rate", 0.0))


async def one_module(package: str, module: str, cache: Path, budget: int, mutation_box: int) -> list[Row]:
    repo = await asyncio.to_thread(fetch, package, cache)
    target = target_of(repo, module)
    envs = RepoEnvironments(cache / "data" / "envs")
    env = await envs.environment_for(repo)
    python = env.python if env else sys.executable
    runner = PynguinRunner(cache / "data" / "tools")
    await runner.ensure_installed()
    # Pynguin alone (unseeded), then as the product runs it (seeded with typical calls): "before" starts there.
    alone = (await runner.generate(repo, target, search_time_s=budget, seed=42, seeded=False,
                                   site_packages=env.site_packages if env else None, raw=True)).code
    raw = (await runner.generate(repo, target, search_time_s=budget, seed=42,
                                 site_packages=env.site_packages if env else None, raw=True)).code
    phase2 = SandboxPhase2(str(python))
    before = tidy(raw)
    run = await phase2.execute(before, repo, [target])
    kept = passing(run.get("tests") or [])
    before = keep_only(before, kept) if kept else before
    after = (await Distiller(phase2, repo, target).distil(before)).code
    scores: dict[str, MutationScore] = {}
    if mutation_box:
        scores["pynguin"] = await mutation_score(repo, [target], {"tests/test_bench.py": alone}, python=str(python),
                                                 time_box_s=mutation_box)
        # "after" is what the product hands out: the distilled file through the mutation gate, which undoes the
        # slice, then the shrink, then the whole distillation if the tests as generated kill more
        # (agents/mutation_gate.py). The gate scores both suites; its scores are the table's.
        kept = [{"path": "tests/test_bench.py", "code": after, AS_WRITTEN: before, TARGET: target}]
        verdict = await gate(repo, [target], kept, python=str(python), time_box_s=mutation_box,
                             allow_unisolated=False, phase2=phase2)
        after = kept[0]["code"]
        scores["after"] = verdict.score
        scores["before"] = verdict.before if verdict.before is not None else await mutation_score(
            repo, [target], {"tests/test_bench.py": before}, python=str(python), time_box_s=mutation_box)
        print(f"{module}: mutation gate: {verdict.note or 'nothing to compare'}", flush=True)
    # Before and after on the mutants both finished (a time box ends runs at different places; under load the
    # same suite finished 169 mutants once and fewer another time).
    common = set(scores["before"].outcomes) & set(scores["after"].outcomes) if mutation_box else set()
    rows = []
    for variant, code in (("pynguin", alone), ("before", before), ("after", after)):
        line, branch = await coverage_of(phase2, code, repo, target)
        score = None
        if variant in scores:
            on = common if variant != "pynguin" and common else set(scores[variant].outcomes)
            score = scores[variant].killed_of(on) / len(on) if on else None
        rows.append(Row(module, variant, measure(code), line, branch, score, "-character input: " in code))
    out = Path(tempfile.gettempdir()) / "aiwebtest-readability" / module
    out.mkdir(parents=True, exist_ok=True)
    for variant, code in (("pynguin", alone), ("before", before), ("after", after)):
        (out / f"{variant}.py").write_text(code)
    return rows


def table(rows: list[Row]) -> str:
    head = ("module", "variant", "tests", "stmts med/p90", "placeholder", "longest lit", "assert", "unused",
            "dup imp", "misnamed", "line", "branch", "mutation")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        lk = r.look
        lines.append(" | ".join([
            r.module, r.variant, str(lk.tests), f"{lk.median_statements:g}/{lk.p90_statements:g}",
            f"{lk.placeholder_share:.0%}", str(lk.longest_literal), f"{lk.assert_share:.0%}", str(lk.unused_names),
            str(lk.duplicate_imports), str(lk.misnamed), f"{r.line:.0%}", f"{r.branch:.0%}",
            "-" if r.mutation is None else f"{r.mutation:.0%}"]))
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[str]:
    """Issue 25's targets, checked on every module's distilled file against its file before distillation."""
    by = {(r.module, r.variant): r for r in rows}
    problems = []
    for (module, variant), r in by.items():
        if variant != "after":
            continue
        b = by[(module, "before")]
        lk = r.look
        if lk.placeholder_share:
            problems.append(f"{module}: {lk.placeholder_share:.0%} of tests keep placeholder names")
        if lk.median_statements > 4:
            problems.append(f"{module}: median {lk.median_statements:g} statements per test")
        if lk.assert_share < 1:
            problems.append(f"{module}: {1 - lk.assert_share:.0%} of tests assert nothing")
        if lk.unused_names:
            problems.append(f"{module}: {lk.unused_names} unused names")
        if lk.longest_literal > 80 and not r.long_reason:
            problems.append(f"{module}: a literal of {lk.longest_literal} characters and no reason stated")
        if r.line < b.line - 1e-9 or r.branch < b.branch - 1e-9:
            problems.append(f"{module}: coverage fell from {b.line:.0%}/{b.branch:.0%} to {r.line:.0%}/{r.branch:.0%}")
        if r.mutation is not None and b.mutation is not None and r.mutation < b.mutation - 1e-9:
            problems.append(f"{module}: mutation score fell from {b.mutation:.0%} to {r.mutation:.0%}")
    return problems


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=30, help="Pynguin's search seconds per module")
    parser.add_argument("--mutation", type=int, default=60, help="mutation time box in seconds (0: skip)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--only", default="", help="only modules whose name contains this")
    parser.add_argument("--extra", action="append", default=[], help="PACKAGE==VERSION:MODULE, more modules")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "aiwebtest-bench-generation")
    args = parser.parse_args()
    modules = corpus(args.corpus) + [tuple(e.split(":", 1)) for e in args.extra]
    rows: list[Row] = []
    for package, module in modules:
        if args.only and args.only not in module:
            continue
        try:
            rows += await one_module(package, module, args.cache, args.budget, args.mutation)
        except Exception as exc:  # noqa: BLE001 - one module's crash is a line of the report
            print(f"{module}: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
            continue
        print(table([r for r in rows if r.module == module]).split("\n", 2)[2], flush=True)
    print()
    print(table(rows))
    problems = targets(rows)
    print("\ntargets after distillation: " + ("all met" if not problems else f"{len(problems)} missed"))
    for p in problems:
        print("  - " + p)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
