"""Runs the GUI: a QApplication on a qasync event loop around ``AppCore``.

The window appears at once and says what is starting; services come up in
the background on the same loop. ``--smoke`` and ``--screenshots`` reuse
the exact path a user takes, then exit.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from app.config import Config, redact_url
from app.core import AppCore
from app.errors import AppError
from app.health import HealthMonitor, HealthReport
from ui.main_window import PANELS, MainWindow
from ui.settings_dialog import SettingsDialog

APP_TITLE = "AI Web Test Control Center"


def run_gui(config: Config, *, smoke: bool = False, screenshots: Path | None = None) -> int:
    headless = smoke or screenshots is not None
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "aiwebtest: no display found (DISPLAY/WAYLAND_DISPLAY unset); the window is drawn "
            "offscreen and will not be visible. Use 'aiwebtest serve' for a headless server, "
            "or run under a desktop session.",
            file=sys.stderr,
        )
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("aiwebtest")
    app.setOrganizationName("aiwebtest")
    app.setApplicationDisplayName(APP_TITLE)
    # Shutdown is async; the loop must outlive the last window.
    app.setQuitOnLastWindowClosed(False)
    return qasync.run(_main(config, smoke=smoke, screenshots=screenshots))


async def _main(config: Config, *, smoke: bool, screenshots: Path | None) -> int:
    t0 = time.perf_counter()
    # A second window on the same machine must still open when port 8000 is taken.
    core = AppCore(config, api_required=False)
    window = MainWindow()
    closed = asyncio.Event()
    window.closing.connect(closed.set)
    window.settings_requested.connect(lambda: _open_settings(window, config, core))
    window.show()
    t_window = time.perf_counter() - t0

    try:
        await core.start(progress=window.show_progress)
    except AppError as exc:
        if smoke or screenshots:
            print(f"aiwebtest: start-up failed: {exc}", file=sys.stderr)
            return 1
        window.show_error("Could not start", str(exc))
        await closed.wait()
        return 1

    monitor = HealthMonitor(core.health, window.show_health, interval_s=2.0)
    try:
        report = await core.health()
        window.show_health(report)
        if core.api_error:
            window.show_progress(f"Ready; the REST API is not served: {core.api_error}")
        elif core.api is not None:
            window.show_progress(f"Ready; API on {core.api.url}")
        monitor.start()
        if smoke:
            return _smoke_line(core, report, t_window, time.perf_counter() - t0)
        if screenshots is not None:
            return await _save_screenshots(window, config, core, screenshots)
        await closed.wait()
        return 0
    finally:
        await monitor.stop()
        window.show_progress("Shutting down…")
        await core.shutdown()
        window.close()


def _smoke_line(core: AppCore, report: HealthReport, t_window: float, total: float) -> int:
    if not report.all_up:
        bad = [h for h in (report.postgres, report.redis) if not h.up]
        for h in bad:
            print(f"aiwebtest: smoke failed: {h.name} is down: {h.error}", file=sys.stderr)
        return 1
    t = core.timings_s
    print(
        f"smoke ok: window {t_window:.2f}s services {t['services']:.2f}s "
        f"migrations {t['migrations']:.2f}s pools {t['pools']:.2f}s api {t['api']:.2f}s total {total:.2f}s; "
        f"postgres {report.postgres.mode} {report.postgres.where} ({report.postgres.latency_ms:.1f} ms); "
        f"redis {report.redis.mode} {report.redis.where} ({report.redis.latency_ms:.1f} ms); "
        f"migrations applied {len(core.applied_migrations)}; "
        f"api {core.api.url if core.api else 'not served: ' + str(core.api_error)}"
    )
    return 0


def settings_rows(config: Config, core: AppCore) -> list[tuple[str, str]]:
    ep = core.endpoints
    return [
        ("Data folder", str(config.data_dir)),
        ("PostgreSQL", f"{ep.postgres_mode}: {ep.postgres_where}" if ep else "not started"),
        ("Redis", f"{ep.redis_mode}: {ep.redis_where}" if ep else "not started"),
        ("Agents kill switch", "AGENTS_ENABLED=false (agents off)" if config.agents_killed else "not set"),
        ("LLM model (seed)", config.llm_model),
        ("LLM base URL", redact_url(config.llm_base_url) if config.llm_base_url else "none (search-based generation)"),
        ("LLM API key", "set in environment" if config.llm_api_key else "not set"),
        ("Daily token budget (seed)", f"{config.agent_token_budget_daily:,}"),
        ("Max concurrent tasks (seed)", str(config.agent_max_concurrent_tasks)),
        ("API", core.api.url if core.api else f"not served ({core.api_error or 'not started'})"),
    ]


def _open_settings(window: MainWindow, config: Config, core: AppCore) -> SettingsDialog:
    dialog = SettingsDialog(settings_rows(config, core), window)
    dialog.open()
    return dialog


async def _save_screenshots(window: MainWindow, config: Config, core: AppCore, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    await asyncio.sleep(0.1)
    for name, _ in PANELS:
        window.select_panel(name)
        await asyncio.sleep(0.05)
        window.grab().save(str(folder / f"{name.lower()}.png"))
    dialog = _open_settings(window, config, core)
    await asyncio.sleep(0.05)
    dialog.grab().save(str(folder / "settings-dialog.png"))
    dialog.close()
    print(f"screenshots written to {folder}")
    return 0
