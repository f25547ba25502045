"""Event-loop lag of the GUI while work runs, against the same measurement idle.

Run by hand: ``.venv/bin/python bench/ui_lag.py [--requests 50]``.

A 1 ms QTimer samples how late it fires (lag = actual interval - 1 ms) on
the app's qasync loop with the main window and live panels shown. Phase
"idle": nothing runs. Phase "busy": N generation requests run through the
agents (an instant scripted model, so the engine's sandboxed runs and the
agents' bookkeeping are the load) while the Costs, Agents and Rollout
panels refresh. Prints p50, p99 and max for both, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.config import load_config  # noqa: E402
from app.control import ControlCenter  # noqa: E402
from app.core import AppCore  # noqa: E402
from engine.generate_request import GenerateRequest  # noqa: E402
from tests.helpers.llm_server import ScriptedLLM  # noqa: E402
from ui.async_bridge import AsyncRunner  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

GOOD = ("```python\nfrom calc import classify, safe_div, clamp\n\ndef test_all():\n    assert classify(-1) == 'negative'\n"
        "    assert classify(0) == 'zero'\n    assert classify(2) == 'positive'\n    assert safe_div(1, 0) is None\n"
        "    assert safe_div(4, 2) == 2\n    assert clamp(5, 0, 3) == 3\n```")


class LagProbe:
    def __init__(self) -> None:
        self.samples: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0

    def start(self) -> None:
        self.samples.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.samples)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.samples.append(max(0.0, (now - self._last) * 1000 - 1.0))
        self._last = now


def summary(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49], q[98], max(samples)


async def main(requests: int, idle_s: float) -> None:
    llm = ScriptedLLM([{"content": GOOD}] * (requests * 2)).start()
    data = Path(tempfile.mkdtemp(prefix="awt-lag-"))
    repo = data / "repo"
    shutil.copytree(ROOT / "resources" / "sample_repo", repo)
    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(data), llm_base_url=llm.base_url),
                   serve_api=False)
    await core.start()
    window = MainWindow()
    runner = AsyncRunner(window)
    window.install_panels(ControlCenter(core), runner)
    for name in ("Costs", "Agents", "Rollout"):
        panel = window.panels[name]
        panel.timer.setInterval(500)  # refresh faster than in the app, to load the UI
    window.show()
    probe = LagProbe()
    try:
        probe.start()
        await asyncio.sleep(idle_s)
        idle = probe.stop()
        window.select_panel("Costs")
        probe.start()
        started = time.perf_counter()
        subs = [await core.generation.submit(GenerateRequest(repository_url=str(repo), target_files=["calc.py"], coverage_target=0.5, max_rounds=1),
                                             use_agents=True) for _ in range(requests)]
        states = [await core.generation.wait(s["task_id"], timeout_s=1800) for s in subs]
        busy_s = time.perf_counter() - started
        busy = probe.stop()
    finally:
        window.stop_refreshing()
        runner.cancel_all()
        window.close()
        await core.shutdown()
        llm.stop()
    done = sum(s["status"] == "completed" for s in states)
    i50, i99, imax = summary(idle)
    b50, b99, bmax = summary(busy)
    print("event-loop lag, 1 ms timer, qasync (2 cores, offscreen)")
    print(f"  idle ({idle_s:.0f} s, {len(idle)} samples):   p50 {i50:6.2f} ms  p99 {i99:6.2f} ms  max {imax:7.2f} ms")
    print(f"  busy ({requests} requests, {done} completed, {busy_s:.0f} s, {len(busy)} samples):"
          f"   p50 {b50:6.2f} ms  p99 {b99:6.2f} ms  max {bmax:7.2f} ms")
    print(f"  ratio busy/idle: p50 {b50 / max(i50, 0.001):.1f}x  p99 {b99 / max(i99, 0.001):.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    qasync.run(main(args.requests, args.idle))
