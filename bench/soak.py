"""Soak: the full app offscreen for a long time with work flowing; reports aborts, RSS growth and loop lag.

Run by hand: ``.venv/bin/python bench/soak.py [--minutes 30] [--in-flight 2] [--window]``.

The app (AppCore with its API, the main window with every panel, the
Costs/Agents/Rollout panels refreshing every second) runs in a child
process, as a user runs it. The parent only watches: a crash such as
"none_dealloc" shows as the child's exit signal instead of taking the
report with it. While it runs:

* ``--in-flight`` generation requests are kept going through the agents,
  on an instant scripted model (the engine's sandboxed pytest runs and the
  agents' bookkeeping are the load), with every fifth one on the
  search-based strategy (Pynguin, no model);
* an HTTP client calls the API (with its token) every second: agents,
  dashboard, settings, health, the Prometheus scrape, and a Phase 2 execute every tenth call;
  with ``--browser-every N``, every Nth call is a browser test whose button moved, healed by
  Stagehand (``browser_backend = stagehand``) on a local page, the scripted model answering;
  each minute counts the Stagehand Chromiums still running (none should outlive its heal);
* a 5 ms QTimer measures how late the loop serves it (lag).

Each minute the child prints one JSON line (RSS, None's refcount, lag
percentiles, requests done); the parent prints a summary at the end with
RSS growth measured from the end of the first minute (after warm-up) and
the lag against the first minute's (a baseline taken in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stall_watch import StallWatch  # noqa: E402
from bench.tick_meter import TickMeter  # noqa: E402

TICK_MS = 5
STALL_MS = 100  # a frame later than this is a visible stall (issue 28)


def _quantiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50": 0.0, "p99": 0.0, "max": max(samples, default=0.0)}
    q = statistics.quantiles(samples, n=100)
    return {"p50": round(q[49], 2), "p99": round(q[98], 2), "max": round(max(samples), 2)}


async def _child(minutes: float, in_flight: int, trace: bool, fault_every_min: float = 0,
                 browser_every: int = 0, census: bool = False) -> int:
    import tracemalloc

    import httpx
    import psutil
    from PySide6.QtCore import QTimer

    from app.config import load_config
    from app.control import ControlCenter
    from app.core import AppCore
    from app.gc_pauses import PAUSES, freeze_startup
    from app.health import HealthMonitor
    from engine.generate_request import GenerateRequest
    from tests.helpers.calc_suites import MODEL_REPLY
    from tests.helpers.llm_server import ScriptedLLM, stagehand_pick
    from tests.helpers.web import LocalSite, moved_form_page
    from ui.async_bridge import AsyncRunner
    from ui.main_window import MainWindow

    pick = stagehand_pick("button: Send")
    census = census or os.environ.get("SOAK_GC_CENSUS") == "1"

    def answer(request: dict) -> str:  # Stagehand asks for JSON of a named schema; generation for code
        return pick(request) if (request.get("response_format") or {}).get("type") == "json_schema" else MODEL_REPLY

    llm = ScriptedLLM(default={"reply": answer}).start()
    site = LocalSite()
    site.pages["/"] = moved_form_page()
    browser_test = (
        "def test_send(page):\n"
        "    \"\"\"Fill in the address, press Send, see the confirmation.\"\"\"\n"
        f"    page.goto({site.url('/')!r})\n"
        "    page.fill('input[name=email]', 'qa@example.com')\n"
        "    page.click('#submit')\n"
        "    assert page.inner_text('#result') == 'Sent!'\n")
    data = Path(tempfile.mkdtemp(prefix="awt-soak-"))
    repo = data / "repo"
    shutil.copytree(ROOT / "resources" / "sample_repo", repo)
    config = load_config(env_file=None, aiwebtest_data_dir=str(data), llm_base_url=llm.base_url,
                         aiwebtest_api_port=0)
    core = AppCore(config)
    await core.start()
    assert core.api is not None and core.generation is not None
    if browser_every:
        from engine import settings_store

        await settings_store.update(core.pool, settings_store.SettingsUpdate(browser_backend="stagehand"))
    window = MainWindow()
    runner = AsyncRunner(window)
    window.install_panels(ControlCenter(core), runner)
    freeze_startup()  # as ui/gui_app.py does once the panels exist (app/gc_pauses.py)
    for name in ("Costs", "Agents", "Rollout"):
        window.panels[name].timer.setInterval(1000)
    # The status bar's stores, as ui/gui_app.py wires them (without it the window said "starting…" all along).
    monitor = HealthMonitor(core.health, window.show_health, interval_s=2.0)
    window.show_health(await core.health())
    window.show_progress(f"Ready; API on {core.api.url}")
    monitor.start()
    window.show()

    meter = TickMeter(TICK_MS)
    watch = StallWatch(threshold_ms=STALL_MS)
    watch.start()

    def tick() -> None:
        meter.tick()
        watch.beat()

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    counts = {"completed": 0, "failed": 0, "http_ok": 0, "http_bad": 0, "submitted": 0, "healed": 0,
              "not_healed": 0}
    failures: list[str] = []
    stop = asyncio.Event()

    async def generations() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            counts["submitted"] += 1
            strategy = "search" if n % 5 == 0 else "llm"
            try:
                sub = await core.generation.submit(
                    GenerateRequest(repository_url=str(repo), target_files=["calc.py"], coverage_target=0.5, max_rounds=1, strategy=strategy,
                                    search_time_s=5), use_agents=True)
                state = await core.generation.wait(sub["task_id"], timeout_s=600)
                counts["completed" if state["status"] == "completed" else "failed"] += 1
                if state["status"] != "completed":
                    failures.append(str(state.get("error"))[:200])
            except Exception as exc:  # noqa: BLE001 - a soak counts failures, it does not stop on one
                counts["failed"] += 1
                failures.append(f"{type(exc).__name__}: {exc}"[:200])

    async def http_traffic() -> None:
        headers = {"Authorization": f"Bearer {config.api_token()}"}
        # Made in a thread: its SSL context (the CA bundle parsed) held the loop 125 ms, the soak measuring itself.
        made = await asyncio.to_thread(httpx.AsyncClient, base_url=core.api.url, headers=headers, timeout=120)
        async with made as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    if browser_every and n % browser_every == 0:
                        response = await client.post("/api/v1/execute", json={
                            "test_code": browser_test, "execution_strategy": "tier1_to_tier2"})
                        body = response.json() if response.status_code == 200 else {}
                        healed = body.get("status") == "success" and any(
                            a.get("backend") == "stagehand" and a.get("status") == "success"
                            for a in body.get("attempts", []))
                        counts["healed" if healed else "not_healed"] += 1
                        if not healed:
                            failures.append(f"browser: {str(body.get('error') or response.text)[:200]}")
                    elif n % 10 == 0:
                        response = await client.post("/api/v1/execute", json={
                            "test_code": "def test_ok():\n    assert 1 + 1 == 2\n", "execution_strategy": "tier1_only"})
                    else:
                        path = ("/api/v2/agents", "/api/v2/metrics/dashboard", "/api/v1/settings", "/api/health",
                                "/metrics")[n % 5]
                        response = await client.get(path)
                    counts["http_ok" if response.status_code == 200 else "http_bad"] += 1
                except httpx.HTTPError:
                    counts["http_bad"] += 1
                await asyncio.sleep(1.0)

    async def faults() -> None:
        """Every ``fault_every_min`` minutes one store dies: Redis kill -9, PostgreSQL kill -9, then
        ``pg_ctl restart -m fast``, in turn; the supervisor must bring each back and work carry on."""
        import os as _os
        import signal as _signal

        n = 0
        while not stop.is_set():
            await asyncio.sleep(fault_every_min * 60)
            kind = ("redis kill -9", "postgres kill -9", "pg_ctl restart -m fast")[n % 3]
            n += 1
            pg, rd = core.services.postgres, core.services.redis
            t0 = time.monotonic()
            if kind == "redis kill -9" and rd.running_info():
                _os.kill(rd.running_info().pid, _signal.SIGKILL)
            elif kind == "postgres kill -9" and pg.running_info():
                _os.kill(pg.running_info().pid, _signal.SIGKILL)
            else:
                await pg._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-l", str(pg.log_file), check=False)
            await asyncio.sleep(0.5)
            alive = rd.running_info if kind.startswith("redis") else pg.running_info
            while alive() is None and time.monotonic() - t0 < 60:
                await asyncio.sleep(0.1)
            counts["faults"] = counts.get("faults", 0) + 1
            print(f"fault {n}: {kind}; running again after {time.monotonic() - t0:.1f} s", flush=True)

    proc = psutil.Process()
    baseline_snapshot = None
    if trace:
        tracemalloc.start(8)
    workers = [asyncio.ensure_future(generations()) for _ in range(in_flight)]
    workers.append(asyncio.ensure_future(http_traffic()))
    if fault_every_min:
        workers.append(asyncio.ensure_future(faults()))
    started = time.monotonic()
    minute = 0
    types_at_2: dict[str, int] = {}
    try:
        while time.monotonic() - started < minutes * 60:
            await asyncio.sleep(60)
            minute += 1
            # A loop that served no tick has a gap as long as the minute, never "no lag" (bench/tick_meter.py).
            this_minute = meter.minute()  # not `window`: that name is the app's window, stopped at the end
            window_lags, gap = this_minute.lags_ms, this_minute.worst_gap_ms
            stalls = watch.take()
            # In a thread: walking /proc for the children held the loop for up to 15 s under load (the soak
            # measured itself as the worst stall).
            own_rss, rss = await asyncio.to_thread(_rss, proc)
            print(json.dumps({
                "minute": minute, "rss_mb": round(own_rss / 2**20, 1),
                "rss_with_children_mb": round(rss / 2**20, 1), "none_refcount": sys.getrefcount(None),
                "lag_ms": _quantiles(window_lags), "ticks": len(window_lags),
                "expected_ticks": int(60_000 / TICK_MS), "worst_gap_ms": round(gap, 1),
                "stalls": [{"ms": st.length_ms, "cpu_share": round(st.cpu_share, 2), "kind": st.kind,
                            "where": st.where}
                           for st in sorted(stalls, key=lambda st: -st.length_ms)[:5]],
                "stall_count": len(stalls), "blocking": sum(st.kind.startswith("blocking") for st in stalls), **counts,
                "stagehand_chromiums": await asyncio.to_thread(_stagehand_chromiums),
                "last_failure": failures[-1] if failures else None, **PAUSES.figures(),
            }), flush=True)
            if census:
                print(_garbage_census(), flush=True)
            if stalls and trace:  # the stack of the longest, for the record
                print("stall stack (longest this minute, "
                      f"{max(stalls, key=lambda st: st.length_ms).length_ms} ms):\n"
                      + max(stalls, key=lambda st: st.length_ms).stack, flush=True)
            if trace and minute == 2:
                baseline_snapshot = tracemalloc.take_snapshot()
                types_at_2 = _type_counts()
            elif trace and minute > 2 and minute % 5 == 0:
                now_types = _type_counts()
                grown = sorted(((n - types_at_2.get(t, 0), t) for t, n in now_types.items()), reverse=True)[:8]
                print("types grown since minute 2: " + ", ".join(f"{t} {d:+d}" for d, t in grown if d > 0),
                      flush=True)
            elif trace and baseline_snapshot is not None:
                growth = tracemalloc.take_snapshot().compare_to(baseline_snapshot, "traceback")
                for stat in growth[:6]:
                    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(stat.traceback[-6:]))
                    print(f"trace +{stat.size_diff / 1024:.0f} KiB ({stat.count_diff:+d} blocks) {where}",
                          flush=True)
    finally:
        stop.set()
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        timer.stop()
        watch.stop()
        await monitor.stop()
        window.stop_refreshing()
        runner.cancel_all()
        window.close()
        await core.shutdown()
        llm.stop()
        site.stop()
    return 0


def _rss(proc: Any) -> tuple[int, int]:
    """(this process's RSS, with its Python children's)."""
    import psutil
    children = 0
    for child in proc.children(recursive=False):
        try:
            if "python" in child.name():
                children += child.memory_info().rss
        except psutil.Error:
            pass
    own = proc.memory_info().rss
    return own, own + children


def _type_counts() -> dict[str, int]:
    """Live objects per type (what objgraph's growth shows): Qt and pyqtgraph objects a panel never lets go."""
    import gc
    from collections import Counter

    return dict(Counter(type(o).__qualname__ for o in gc.get_objects()))


def _garbage_census() -> str:
    """What the collector walks (tracked, not frozen) and what a full collection now finds unreachable, by type.

    A diagnosis, not a measurement: the collection runs on the loop (with ``DEBUG_SAVEALL`` so the garbage
    can be counted before it goes), and the minute it runs in has that pause in its gap.
    """
    import gc
    from collections import Counter

    tracked = len(gc.get_objects())
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        started, cpu = time.perf_counter(), time.thread_time()
        gc.collect()
        ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
        kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
        found = len(gc.garbage)
        gc.garbage.clear()
    finally:
        gc.set_debug(0)
    return (f"gc census: {tracked} tracked outside the frozen set; a full collection took {ms:.0f} ms ({cpu_ms:.0f} ms of CPU) and found "
            f"{found} unreachable: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common(12)))


def _slope(rows: list[dict], key: str) -> float:
    """Least-squares MB per minute of ``key`` over ``rows``: the trend, not the first and last points."""
    xs, ys = [r["minute"] for r in rows], [r[key] for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def _stagehand_chromiums() -> int:
    """Stagehand's browsers running now: one profile dir (stagehand-chrome-*) per browser, many processes each."""
    import re

    found = subprocess.run(["pgrep", "-af", "stagehand-chrome"], capture_output=True, text=True).stdout
    return len(set(re.findall(r"--user-data-dir=(\S*stagehand-chrome\S*)", found)))


def _run_child(minutes: float, in_flight: int, trace: bool, fault_every_min: float = 0,
               browser_every: int = 0) -> int:
    import qasync

    from ui.gui_app import qt_application

    qt_application()
    if os.environ.get("SOAK_TRIM_EVERY_S"):  # experiment: glibc's malloc_trim(0) on a thread, every N s
        import ctypes
        import threading

        libc = ctypes.CDLL("libc.so.6")
        every = float(os.environ["SOAK_TRIM_EVERY_S"])

        def trim() -> None:
            while True:
                time.sleep(every)
                libc.malloc_trim(0)

        threading.Thread(target=trim, daemon=True).start()
    return qasync.run(_child(minutes, in_flight, trace, fault_every_min, browser_every))


def _parent(minutes: float, in_flight: int, trace: bool, fault_every_min: float = 0, browser_every: int = 0,
            window: bool = False, arena_max: int = 0, heaptrack: str = "") -> int:
    if window and not os.environ.get("DISPLAY"):
        print("soak: --window needs a display (DISPLAY is not set; under Xvfb: Xvfb :99 & DISPLAY=:99 ...)")
        return 2
    # --window: a real window on $DISPLAY (xcb), as a user sees it; else offscreen.
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb" if window else "offscreen"}
    if arena_max:
        env["MALLOC_ARENA_MAX"] = str(arena_max)
    cmd = [sys.executable, __file__, "--child", "--minutes", str(minutes), "--in-flight", str(in_flight),
           "--fault-every-min", str(fault_every_min), "--browser-every", str(browser_every)]
    if trace:
        cmd.append("--trace")
    if heaptrack:
        # heaptrack records every native allocation with its stack: the way to see growth
        # that tracemalloc (Python's heap only) cannot.
        cmd = ["heaptrack", "-o", heaptrack, *cmd]
    where = f"a real window on {os.environ['DISPLAY']}" if window else "offscreen"
    print(f"soak: {minutes:g} min, {in_flight} generation(s) in flight, panels refreshing every 1 s, {where}",
          flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    rows: list[dict] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("{"):
            row = json.loads(line)
            rows.append(row)
            worst = row["stalls"][0] if row["stalls"] else None
            print(f"  min {row['minute']:>3}: rss {row['rss_mb']:7.1f} MB  ticks {row['ticks']:>5}/"
                  f"{row['expected_ticks']}  lag p50 {row['lag_ms']['p50']:6.2f} p99 {row['lag_ms']['p99']:7.2f} "
                  f"worst gap {row['worst_gap_ms']:8.1f} ms  stalls>{STALL_MS} ms {row['stall_count']} "
                  f"({row['blocking']} blocking)" + (f" longest {worst['ms']} ms {worst['kind']} at {worst['where']}"
                                                     if worst else "") + f"  done {row['completed']:>4} "
                  f"failed {row['failed']:>3}  http ok {row['http_ok']:>5} bad {row['http_bad']:>3}  "
                  f"None {row['none_refcount']}  full gc {row.get('gc_full', 0)} worst "
                  f"{row.get('gc_full_worst_ms', 0)} ms (cpu {row.get('gc_full_worst_cpu_ms', 0)} ms, {row.get('gc_full_worst_collected', 0)} freed)  healed {row['healed']}/{row['healed'] + row['not_healed']} "
                  f"stagehand chromiums {row['stagehand_chromiums']}", flush=True)
        else:
            print("  child: " + line, flush=True)
    code = proc.wait()
    if code < 0:
        verdict = f"ABORTED by signal {signal.Signals(-code).name} after {len(rows)} min"
    elif code != 0:
        verdict = f"exited {code} after {len(rows)} min"
    else:
        verdict = "no abort"
    print(f"soak result: {verdict}")
    if rows:
        settled = [r for r in rows if r["minute"] >= 10]
        span = settled if len(settled) >= 2 else rows
        slope = _slope(span, "rss_mb") if len(span) >= 2 else 0.0
        stalls = [st for r in rows for st in r["stalls"]]
        sites: dict[str, int] = {}
        for st in stalls:
            sites[f"{st['kind']} at {st['where']}"] = sites.get(f"{st['kind']} at {st['where']}", 0) + 1
        print(f"  summary: {len(rows)} min; worst gap {max(r['worst_gap_ms'] for r in rows):.0f} ms; RSS slope "
              f"{slope:+.2f} MB/min (least squares over minutes {span[0]['minute']}-{span[-1]['minute']}"
              f"{'' if span is settled else ', the run is shorter than 10 min'}); generations {rows[-1]['completed']} "
              f"completed, {rows[-1]['failed']} failed; faults {rows[-1].get('faults', 0)}; HTTP "
              f"{rows[-1]['http_ok'] + rows[-1]['http_bad']} calls ({rows[-1]['http_bad']} bad); stalls over "
              f"{STALL_MS} ms {sum(r['stall_count'] for r in rows)} ({sum(r['blocking'] for r in rows)} blocking)")
        for site, n in sorted(sites.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {n:>4} x {site}")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = last["rss_mb"] - first["rss_mb"]
        span = last["minute"] - first["minute"]
        print(f"  RSS {first['rss_mb']} MB after minute 1 -> {last['rss_mb']} MB after minute {last['minute']}: "
              f"{growth:+.1f} MB ({growth / first['rss_mb'] * 100:+.1f} %, {growth / span:+.2f} MB/min)")
        p99s = [r["lag_ms"]["p99"] for r in rows]
        print(f"  loop lag p99 per minute: first {p99s[0]} ms, median {statistics.median(p99s)} ms, "
              f"worst {max(p99s)} ms (ratio worst/first {max(p99s) / max(p99s[0], 0.01):.1f}x); "
              f"worst single tick {max(r['lag_ms']['max'] for r in rows)} ms")
        print(f"  generations completed {last['completed']}, failed {last['failed']}; HTTP ok {last['http_ok']}, "
              f"bad {last['http_bad']}; None refcount {first['none_refcount']} -> {last['none_refcount']}")
        if last["last_failure"]:
            print(f"  last failure: {last['last_failure']}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--in-flight", type=int, default=2)
    parser.add_argument("--trace", action="store_true",
                        help="tracemalloc: print each minute where memory grew since minute 2 (slower)")
    parser.add_argument("--fault-every-min", type=float, default=0,
                        help="kill a store this often (Redis -9, PostgreSQL -9, pg_ctl restart, in turn); 0: never")
    parser.add_argument("--browser-every", type=int, default=0,
                        help="every Nth API call is a browser test healed by Stagehand; 0: none")
    parser.add_argument("--window", action="store_true",
                        help="show the app in a real window on $DISPLAY (an X server or Xvfb) instead of offscreen")
    parser.add_argument("--malloc-arena-max", type=int, default=0,
                        help="run the app with MALLOC_ARENA_MAX=N (glibc's malloc arenas; 0: glibc's default)")
    parser.add_argument("--heaptrack", default="",
                        help="run the app under heaptrack, writing FILE (native allocations; read with heaptrack_print)")
    parser.add_argument("--gc-census", action="store_true",
                        help="each minute, a full collection that counts what it finds unreachable, by type "
                             "(a diagnosis: that collection's pause is in the minute's gap)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gc_census:
        os.environ["SOAK_GC_CENSUS"] = "1"  # the child reads it
    if args.child:
        sys.exit(_run_child(args.minutes, args.in_flight, args.trace, args.fault_every_min, args.browser_every))
    sys.exit(_parent(args.minutes, args.in_flight, args.trace, args.fault_every_min, args.browser_every,
                     args.window, args.malloc_arena_max, args.heaptrack))
