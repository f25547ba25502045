"""Engine overhead and throughput, against bare pytest in the same run.

Run by hand: ``.venv/bin/python bench/engine.py [--runs N]``.

1. Overhead: one tier-1 execution of a small test file with coverage of a
   target module, through ``ExecutionEngine`` (rows in Postgres, sandbox,
   JUnit and coverage parsing), against a bare ``python -m coverage run
   --branch -m pytest`` of the same files and a bare ``python -m pytest``.
   Medians of N runs; ratios against the bare runs.
2. Throughput: executions per minute with 1, 2 and 4 concurrent requests
   (the machine has 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import load_config  # noqa: E402
from app.core import AppCore  # noqa: E402
from engine.engine import ExecuteRequest  # noqa: E402

REPO = ROOT / "resources" / "sample_repo"
TESTS = """
from calc import classify, safe_div, clamp

def test_classify():
    assert classify(-1) == "negative" and classify(0) == "zero" and classify(2) == "positive"

def test_safe_div():
    assert safe_div(1, 0) is None

def test_clamp():
    assert clamp(5, 0, 3) == 3
"""


def bare(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)})
    return time.perf_counter() - start


async def main(runs: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="awt-bench-"))
    (scratch / "test_generated.py").write_text(TESTS)
    pytest_only = [bare([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_generated.py"], scratch)
                   for _ in range(runs)]
    with_cov = [bare([sys.executable, "-m", "coverage", "run", "--branch", f"--source={REPO}", "-m", "pytest", "-q",
                      "-p", "no:cacheprovider", "test_generated.py"], scratch) for _ in range(runs)]

    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(scratch / "data")), serve_api=False)
    await core.start()
    try:
        assert core.engine is not None
        request = ExecuteRequest(TESTS, strategy="tier1_only", repository=REPO, target_files=("calc.py",))
        ours = []
        for _ in range(runs):
            start = time.perf_counter()
            result = await core.engine.execute(request)
            ours.append(time.perf_counter() - start)
            assert result.status == "success", result.error
        plain = ExecuteRequest(TESTS, strategy="tier1_only", repository=REPO)
        ours_nocov = []
        for _ in range(runs):
            start = time.perf_counter()
            await core.engine.execute(plain)
            ours_nocov.append(time.perf_counter() - start)

        throughput = {}
        for concurrency in (1, 2, 4):
            total = concurrency * 4
            start = time.perf_counter()
            sem = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with sem:
                    await core.engine.execute(request)

            await asyncio.gather(*(one() for _ in range(total)))
            throughput[concurrency] = total / (time.perf_counter() - start) * 60
    finally:
        await core.shutdown()

    m = statistics.median
    print(f"engine benchmark, {runs} runs each, medians (2 cores)")
    print(f"  bare pytest                      {m(pytest_only):6.2f} s   1.00x")
    print(f"  bare coverage run -m pytest      {m(with_cov):6.2f} s   {m(with_cov) / m(pytest_only):.2f}x")
    print(f"  engine tier 1, no coverage       {m(ours_nocov):6.2f} s   {m(ours_nocov) / m(pytest_only):.2f}x bare pytest")
    print(f"  engine tier 1 with coverage      {m(ours):6.2f} s   {m(ours) / m(with_cov):.2f}x bare coverage run")
    for concurrency, per_min in throughput.items():
        print(f"  throughput, {concurrency} concurrent           {per_min:6.1f} executions/min")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
