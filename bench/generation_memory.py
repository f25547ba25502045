"""Python heap growth over many generations in one process (issue 28), measured by tracemalloc.

Run by hand: ``.venv/bin/python bench/generation_memory.py [--generations 200] [--warmup 20]``
(starts its own embedded PostgreSQL and Redis and a scripted model on 127.0.0.1).
``tests/bench/test_generation_memory.py`` runs the same measurement on the suite's servers.

Generations go through the app's own ``GenerationService`` on the default route (the Phase 2
single pass: the model's answer, the sandboxed runs, the run log, the progress events, the
gateway's token accounting), two in flight, on the sample repository with the scripted model.
The first ``warmup`` fill caches that are meant to fill (compiled regexes, the gateway's
client, the settings row, asyncpg's prepared statements); the heap after them is the
baseline and what is still allocated at the end, traced back 25 frames, is the growth. The
soak measures the agents' route and the window by RSS; this finds a per-request Python
object kept for ever, which RSS over an hour cannot tell from noise.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAMES = 6  # deep enough to tell the app's allocations from the harness's; 25 made a generation 6x slower
# The scripted model's HTTP server runs in this process only here: its handler threads are not the app's.
HARNESS = ("socketserver.py", "http/server.py", "tests/helpers/")


@dataclass
class HeapGrowth:
    generations: int  # after the warm-up
    completed: int
    failed: list[str]
    baseline_kb: float  # traced heap after the warm-up
    growth_kb: float  # still allocated at the end, beyond the baseline
    seconds: float
    top: list[str] = field(default_factory=list)  # the biggest growth sites, one line each

    @property
    def per_generation_kb(self) -> float:
        return self.growth_kb / max(1, self.generations)


async def measure(generation: Any, repo: Path, *, count: int, warmup: int, in_flight: int = 2) -> HeapGrowth:
    """``count`` generations through ``generation`` (a ``GenerationService``); heap growth after ``warmup``."""
    from engine.generate_request import GenerateRequest

    request = GenerateRequest(repository_url=str(repo), target_files=["calc.py"], coverage_target=0.5, max_rounds=1,
                              strategy="llm", mutation_score=False)
    failed: list[str] = []
    completed = 0

    async def run(n: int) -> None:
        nonlocal completed
        for _ in range(n):
            submitted = await generation.submit(request, use_agents=False)
            state = await generation.wait(submitted["task_id"], timeout_s=300)
            if state["status"] == "completed":
                completed += 1
            else:
                failed.append(str(state.get("error"))[:200])

    async def batch(n: int) -> None:
        share = [n // in_flight + (i < n % in_flight) for i in range(in_flight)]
        await asyncio.gather(*(run(k) for k in share if k))

    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start(FRAMES)
    try:
        await batch(warmup)
        await asyncio.sleep(0.5)  # background bookkeeping of the last request (run log, metrics) lands
        gc.collect()
        before = tracemalloc.take_snapshot()
        started = time.perf_counter()
        await batch(count - warmup)
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.5)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        if started_tracing:
            tracemalloc.stop()
    stats = [s for s in after.compare_to(before, "traceback") if not _harness(s.traceback)]
    growth = sum(s.size_diff for s in stats)
    top = [f"{s.size_diff / 1024:+.1f} KB in {s.count_diff:+d} blocks at "
           + " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(list(s.traceback)[-4:]))
           for s in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:8] if s.size_diff > 0]
    return HeapGrowth(count - warmup, completed, failed, sum(s.size for s in before.statistics("filename")) / 1024,
                      growth / 1024, seconds, top)


def _harness(traceback: tracemalloc.Traceback) -> bool:
    return any(part in frame.filename for frame in traceback for part in HARNESS)


async def _main(generations: int, warmup: int) -> int:
    from app.config import load_config
    from app.core import AppCore
    from tests.helpers.calc_suites import MODEL_REPLY
    from tests.helpers.llm_server import ScriptedLLM

    llm = ScriptedLLM(default={"content": MODEL_REPLY}).start()
    data = Path(tempfile.mkdtemp(prefix="awt-heap-"))
    repo = data / "repo"
    shutil.copytree(ROOT / "resources" / "sample_repo", repo)
    core = AppCore(load_config(env_file=None, aiwebtest_data_dir=str(data), llm_base_url=llm.base_url,
                               aiwebtest_api_port=0), serve_api=False)
    await core.start()
    try:
        assert core.generation is not None
        result = await measure(core.generation, repo, count=generations, warmup=warmup)
    finally:
        await core.shutdown()
        llm.stop()
    print(json.dumps({**asdict(result), "per_generation_kb": round(result.per_generation_kb, 2)}, indent=1))
    return 0 if not result.failed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    sys.exit(asyncio.run(_main(args.generations, args.warmup)))
