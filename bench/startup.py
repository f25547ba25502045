"""Start-up time: cold (first run, initdb included) and warm, to a shown window.

Run by hand: ``make bench`` or ``.venv/bin/python bench/startup.py [--runs N]``.

Each figure is the wall time of a whole ``aiwebtest --smoke`` process
(interpreter start, imports, window shown offscreen, services healthy,
clean shutdown), median of N runs. The baseline, measured in the same run
on the same machine, is a bare PySide6 process that shows an empty
QMainWindow and exits: the floor any Qt app pays. Ratios are against it.

Kinds of start:
  cold     a new data dir: initdb, first migrations
  warm     the data dir exists, servers stopped: start both, check migrations
  adopted  servers already running (``aiwebtest serve`` in another process)
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE_QT = (
    "import sys; from PySide6.QtWidgets import QApplication, QMainWindow;"
    "a = QApplication(sys.argv); w = QMainWindow(); w.show(); a.processEvents(); sys.exit(0)"
)


def _env(data_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for var in ("POSTGRES_URL", "REDIS_STREAMS_URL"):
        env.pop(var, None)
    if data_dir is not None:
        env["AIWEBTEST_DATA_DIR"] = str(data_dir)
    return env


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{result.stderr}")
    return elapsed, result.stdout


def _smoke(data_dir: Path) -> tuple[float, float]:
    """(process wall time, in-process time to a healthy shown window)."""
    wall, out = _timed([sys.executable, "-m", "ui.entry", "--smoke"], _env(data_dir))
    match = re.search(r"total ([0-9.]+)s", out)
    return wall, float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    base = [_timed([sys.executable, "-c", BARE_QT], _env())[0] for _ in range(args.runs)]
    cold, warm = [], []
    for _ in range(args.runs):
        data_dir = Path(tempfile.mkdtemp(prefix="awt-bench-"))
        cold.append(_smoke(data_dir))
        warm.append(_smoke(data_dir))

    adopted = []
    data_dir = Path(tempfile.mkdtemp(prefix="awt-bench-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], cwd=ROOT, env=_env(data_dir),
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "aiwebtest serving: ..."
        adopted = [_smoke(data_dir) for _ in range(args.runs)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    b = statistics.median(base)
    print(f"startup benchmark, {args.runs} runs each, medians (2 cores, offscreen)")
    print(f"{'kind':<10}{'process s':>10}{'in-app s':>10}{'x bare Qt':>11}")
    print(f"{'bare Qt':<10}{b:>10.2f}{'':>10}{1.0:>11.2f}")
    for name, runs in (("cold", cold), ("warm", warm), ("adopted", adopted)):
        wall = statistics.median(r[0] for r in runs)
        inner = statistics.median(r[1] for r in runs)
        print(f"{name:<10}{wall:>10.2f}{inner:>10.2f}{wall / b:>11.2f}")


if __name__ == "__main__":
    main()
