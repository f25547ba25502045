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

from app.config import Config
from app.control import ControlCenter
from app.core import AppCore
from app.gc_pauses import freeze_startup
from engine.errors import AppError
from app.health import HealthMonitor, HealthReport
from ui.async_bridge import AsyncRunner
from ui.main_window import PANELS, MainWindow
from ui.qt_prerequisites import missing_message, missing_packages, uses_xcb
from ui.settings_dialog import SettingsDialog
from ui.theme import follow_os_theme

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
    if uses_xcb():
        missing = missing_packages()
        if missing:
            print(missing_message(missing), file=sys.stderr)
            return 1
    qt_application()
    return qasync.run(_main(config, smoke=smoke, screenshots=screenshots))


def qt_application() -> QApplication:
    """The one QApplication, set up as the GUI runs it (tests and probes reuse this)."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("aiwebtest")
    app.setOrganizationName("aiwebtest")
    app.setApplicationDisplayName(APP_TITLE)
    # Shutdown is async; the loop must outlive the last window.
    app.setQuitOnLastWindowClosed(False)
    follow_os_theme(app)
    return app


async def _main(config: Config, *, smoke: bool, screenshots: Path | None) -> int:
    t0 = time.perf_counter()
    # A second window on the same machine must still open when port 8000 is taken.
    core = AppCore(config, api_required=False)
    window = MainWindow()
    closed = asyncio.Event()
    window.closing.connect(closed.set)
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

    control = ControlCenter(core)
    runner = AsyncRunner(window)
    runner.error.connect(window.show_status_error)
    monitor = HealthMonitor(core.health, window.show_health, interval_s=2.0)
    try:
        # Inside the try: a module missing from an incomplete install fails here, after the servers
        # started, and they must still be stopped (issue 13: --smoke hung and left them running).
        window.install_panels(control, runner)
        freeze_startup()  # the panels live as long as the window: no full collection walks them (app/gc_pauses.py)
        window.settings_requested.connect(lambda: _open_settings(window, control, runner))
        window.api_token_requested.connect(lambda: _copy_api_token(window, control))
        window.diagnostics_requested.connect(lambda path: _export_diagnostics(window, control, runner, path))
        if core.alert_monitor is not None:
            core.alert_monitor.subscribe(window.show_alerts)
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
            return await _save_screenshots(window, control, runner, screenshots)
        await closed.wait()
        return 0
    finally:
        window.stop_refreshing()
        runner.cancel_all()
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


def _copy_api_token(window: MainWindow, control: ControlCenter) -> None:
    url, token = control.api_access()
    QApplication.clipboard().setText(token)
    where = f"for {url}" if url else "(the API is not served by this window)"
    window.show_progress(f"API token copied {where}: send it as 'Authorization: Bearer <token>'")


def _export_diagnostics(window: MainWindow, control: ControlCenter, runner: AsyncRunner, path: str) -> None:
    window.show_progress("Writing diagnostics…")
    runner.run(control.export_diagnostics(Path(path)),
               lambda written: window.show_progress(f"Diagnostics written to {written} (secrets removed)"),
               window.show_status_error)


def _open_settings(window: MainWindow, control: ControlCenter, runner: AsyncRunner) -> SettingsDialog:
    dialog = SettingsDialog(control, runner, window)
    dialog.saved.connect(lambda: window.show_progress("Settings saved"))
    dialog.open()
    window._settings_dialog = dialog  # keep a reference while it is open
    return dialog


async def _save_screenshots(window: MainWindow, control: ControlCenter, runner: AsyncRunner, folder: Path) -> int:
    """A PNG of each panel with data in it, and of the settings dialog.

    Data: a real generation on the bundled sample repository (search
    strategy), plus demo history and metrics seeded into this data dir
    (``app/demo.py``; --screenshots is meant for a throwaway data dir).
    """
    from app.demo import run_failing_generation, run_sample_generation, seed_demo

    folder.mkdir(parents=True, exist_ok=True)
    window.resize(1180, 760)  # the default window size, whatever size this user's window was left at
    generate = window.panels["Generate"]
    # The empty state a first start shows: no tokens, no cost, no finished request.
    window.select_panel("Costs")
    window.panels["Costs"].refresh()
    await asyncio.sleep(1.0)
    window.grab().save(str(folder / "costs-empty.png"))
    rollout = window.panels["Rollout"]
    window.select_panel("Rollout")
    rollout.refresh()
    await asyncio.sleep(1.0)
    window.grab().save(str(folder / "rollout-no-requests.png"))
    window.show_progress("Preparing screenshot data…")
    failed = await run_failing_generation(control)
    rollout.refresh()  # one request: one thin bar in the last hour
    await asyncio.sleep(1.0)
    window.grab().save(str(folder / "rollout-one-request.png"))
    state = await run_sample_generation(control)
    await seed_demo(control.core)
    window.show_progress("Ready")
    repo = state["result"]["repository"]
    generate.form.repo_edit.setText(repo)
    generate.form.on_load()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if generate.form.files_model.rowCount():
            break
    generate.form.set_checked([f["path"] for f in state["result"]["coverage_by_file"] or []])
    generate.progress_view.show_log("\n".join(state.get("progress", [])))
    generate.progress_view.finish(failed=False)
    generate.show_result(state)
    generate.refresh_history()
    for panel in window.panels.values():
        for method in ("refresh", "load"):
            if hasattr(panel, method):
                getattr(panel, method)()
    await asyncio.sleep(1.5)
    for name, _ in PANELS:
        window.select_panel(name)
        if name == "Agents":
            window.panels[name].table.selectRow(0)
        await asyncio.sleep(0.4)
        window.grab().save(str(folder / f"{name.lower()}.png"))
    # History: every finished request, its verdict and coverage, columns that fit.
    window.select_panel("Generate")
    generate.tabs.setCurrentIndex(generate.history_tab_index)
    await asyncio.sleep(1.0)
    window.grab().save(str(folder / "history.png"))
    generate.tabs.setCurrentIndex(0)
    # Stagehand chosen while no model is configured: the panel says who heals meanwhile (not saved).
    settings = window.panels["Settings"]
    window.select_panel("Settings")
    settings.backend.setCurrentIndex(settings.backend.findData("stagehand"))
    await asyncio.sleep(0.3)
    window.grab().save(str(folder / "settings-stagehand-no-model.png"))
    settings.load()
    dialog = _open_settings(window, control, runner)
    await asyncio.sleep(0.3)
    dialog.grab().save(str(folder / "settings-dialog.png"))
    dialog.close()
    # The failed state a user without bubblewrap meets: the banner and the red indicator.
    import dataclasses

    from engine.isolation import Isolation

    live = await control.core.health()
    missing = Isolation(False, None, "bwrap is not installed (Debian/Ubuntu package bubblewrap: "
                                     "apt-get install bubblewrap)", live.sandbox.memory if live.sandbox else "")
    window.select_panel("Generate")
    window.show_health(dataclasses.replace(live, sandbox=missing, allow_unisolated=False))
    await asyncio.sleep(0.4)
    window.grab().save(str(folder / "generate-no-sandbox.png"))
    # The failed state of a store: PostgreSQL killed, the app starting it again.
    restarting = dataclasses.replace(live.postgres, up=False, latency_ms=None, supervision="restarting (attempt 1)",
                                     error="connection refused")
    window.show_health(dataclasses.replace(live, postgres=restarting))
    await asyncio.sleep(0.4)
    window.grab().save(str(folder / "postgres-restarting.png"))
    window.show_health(live)
    # A firing alert: the badge on its panel, the reason in the tooltip, the notification in the status bar
    # (offscreen there is no tray).
    from app.alerts import RULES, Alert

    rule = next(r for r in RULES if r.name == "Daily cost")
    firing = Alert(rule, 243.5, "firing")
    window.select_panel("Costs")
    window.show_alerts([firing], [firing])
    await asyncio.sleep(0.4)
    window.grab().save(str(folder / "alert-firing.png"))
    window.show_alerts([], [])
    # Rollout in each mode, applied for real (and audited) through the panel's service.
    for mode, share in (("off", 0), ("shadow", 0), ("percentage", 25), ("full", 100)):
        await control.rollouts.apply(mode, share, True if mode != "off" else None)
        window.select_panel("Rollout")
        rollout.refresh()
        await asyncio.sleep(0.8)
        window.grab().save(str(folder / f"rollout-{mode}.png"))
    await control.rollouts.rollback(wait_s=1.0)
    # A real run that kept nothing: the verdict and its reason, in the result header.
    window.select_panel("Generate")
    generate.finished(failed)
    generate.progress_view.show_log(await control.generation.run_log(failed["task_id"]))
    await asyncio.sleep(0.4)
    window.grab().save(str(folder / "generate-failed.png"))
    # Bad input: a search time out of range, said next to its field (the same words as the CLI and the API).
    generate.form.search_spin.setValue(2)
    generate.on_generate()
    await asyncio.sleep(0.3)
    window.grab().save(str(folder / "generate-bad-input.png"))
    generate.form.search_spin.setValue(20)
    print(f"screenshots written to {folder}")
    return 0
