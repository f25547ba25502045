"""Whole repositories: "all modules without tests" against Pynguin module by module, with 1, 2 and 4 evolution workers.

Run by hand: ``.venv/bin/python bench/whole_repository.py [--budget 120] [--workers 1,2,4] [--packages P==V,...]
[--keep DIR]``.

For each package (its sdist unpacked, its own tests removed, ``git init``: bench/generation.py's ``fetch``):

* the product, once per worker count N: ``aiwebtest generate --files '*' --strategy search --agents`` in a
  process that runs every agent but evolution, beside N ``aiwebtest worker --agents evolution`` processes
  (one evolve task at a time each: ``AGENT_MAX_CONCURRENT_TASKS=1``), all on one embedded PostgreSQL and
  Redis: the cluster's layout on one machine. The search budget is the whole repository's; the product
  splits it by what is left to cover (agents/whole_repository.py) and sends one evolve task per module.
* Pynguin alone, module by module over the modules the product chose, the same total budget split
  equally (Pynguin has no plan of its own), one after another.

Each kept set is measured the same way, independently of the tool that made it (bench/generation.py's
``measure``: plain pytest under coverage.py in a fresh copy, three times): the repository's line coverage
over those modules, statements over statements. The wall is the request's own (from its start to its
result) and the process's. On a 2-core machine 4 workers share 2 cores: the figure says what that costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generation import Measured, fetch, measure, run_pynguin  # noqa: E402

DEFAULT_PACKAGES = "humanize==4.9.0,docstring_parser==0.16"
NOT_EVOLUTION = "orchestration,observation,requirements,analysis,reporting"


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir), "AGENT_MAX_CONCURRENT_TASKS": "1"}


def run_product(repo: Path, budget: int, workers: int, data_dir: Path) -> tuple[dict, float]:
    """The request's result (or its error) and the process's wall, with ``workers`` evolution workers up."""
    env = _env(data_dir)
    pool: list[subprocess.Popen] = []
    try:
        for n in range(workers):
            pool.append(subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--agents", "evolution"],
                                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True))
            # The first starts the embedded servers, the others reuse them: one at a time.
            time.sleep(20 if n == 0 else 5)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "generate", "--repo", str(repo), "--files", "*", "--strategy",
             "search", "--agents", "--search-time", str(budget), "--max-rounds", "1", "--coverage-target", "1.0",
             "--json", "--no-mutation", "--timeout", str(budget * 20 + 600)],
            cwd=ROOT, capture_output=True, text=True, env={**env, "AIWEBTEST_AGENTS": NOT_EVOLUTION}, check=False)
        wall = time.perf_counter() - started
    finally:
        for p in pool:
            os.killpg(p.pid, signal.SIGTERM)
        for p in pool:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    try:
        state = json.loads(done.stdout[done.stdout.index("{"):])
    except ValueError:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:200]}, wall
    if state.get("status") != "completed":
        return {"error": str(state.get("error"))[:200]}, wall
    return state["result"], wall


async def pynguin_module_by_module(repo: Path, targets: list[str], budget: int, data_dir: Path
                                   ) -> tuple[dict[str, str], float]:
    files: dict[str, str] = {}
    started = time.perf_counter()
    share = max(1, budget // max(1, len(targets)))
    for target in targets:
        got, _, _ = await run_pynguin(repo, target, share, data_dir)
        files.update(got)
    return files, time.perf_counter() - started


def _line(name: str, m: Measured, wall: float, extra: str = "") -> str:
    return (f"  {name:<34} line {m.line:6.1%}  tests {m.tests:4d}  green {m.green}/3  wall {wall:6.1f} s"
            + (f"  {extra}" if extra else "") + "".join(f"\n      {line}" for line in m.failed[:5]))


def _keep(folder: Path | None, files: dict[str, str], result: dict | None = None) -> None:
    if folder is None:
        return
    for path, code in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(code)
    if result is not None:
        (folder / "result.json").write_text(json.dumps(result, indent=1, default=str))


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=120, help="the whole repository's search seconds")
    parser.add_argument("--workers", default="1,2,4", help="evolution worker counts to run the product with")
    parser.add_argument("--packages", default=DEFAULT_PACKAGES)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "aiwebtest-bench-generation")
    parser.add_argument("--keep", type=Path, default=None, help="write each set's tests (and the product's result) here")
    args = parser.parse_args()
    data_dir = args.cache / "data-whole"
    data_dir.mkdir(parents=True, exist_ok=True)
    counts = [int(n) for n in args.workers.split(",")]
    print(f"bench: whole repositories, {args.budget} s of search each, product with {counts} evolution "
          "worker(s) against Pynguin module by module", flush=True)
    for package in args.packages.split(","):
        repo = fetch(package, args.cache)
        print(f"{package}:", flush=True)
        targets: list[str] = []
        for workers in counts:
            result, wall = await asyncio.to_thread(run_product, repo, args.budget, workers, data_dir)
            if "error" in result:
                print(f"  product, {workers} worker(s): failed: {result['error']} ({wall:.0f} s)", flush=True)
                continue
            # Every module the product planned for is a row (a module whose step failed too).
            targets = targets or sorted(row["path"] for row in result.get("coverage_by_file") or [])
            m = await measure(repo, targets, result["files"], data_dir, 0)
            d = await measure(repo, targets, result["files"], data_dir, 0, doctests=True)
            _keep(args.keep and args.keep / repo.name / f"product-{workers}", result["files"], result)
            print(_line(f"product, {workers} worker(s)", m, float(result.get("execution_time_seconds") or wall),
                        f"(with the modules' doctests {d.line:.1%}, green {d.green}/3; process {wall:.0f} s; the "
                        f"app's own figure {result.get('coverage_estimate', 0):.1%}; {len(targets)} modules)"),
                  flush=True)
        if not targets:
            continue
        files, wall = await pynguin_module_by_module(repo, targets, args.budget, data_dir)
        m = await measure(repo, targets, files, data_dir, 0)
        d = await measure(repo, targets, files, data_dir, 0, doctests=True)
        _keep(args.keep and args.keep / repo.name / "pynguin", files)
        print(_line(f"Pynguin module by module ({args.budget // len(targets)} s each)", m, wall,
                    f"(with the modules' doctests {d.line:.1%}, green {d.green}/3)"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
