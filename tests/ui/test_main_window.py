from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core import AppCore
from app.health import HealthReport, ServiceHealth
from app.services import Endpoints
from tests.conftest import make_config
from ui.main_window import PANELS, MainWindow


def make_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    # Shortcuts go to the active window only; the offscreen platform
    # activates on request (activateWindow() alone is not enough there).
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    return window


def report(pg_up: bool = True, redis_up: bool = True) -> HealthReport:
    return HealthReport(
        ServiceHealth("postgres", pg_up, "embedded", "/data/run", 1.0 if pg_up else None, None if pg_up else "refused"),
        ServiceHealth("redis", redis_up, "shared", "redis://cache:6379", 0.5 if redis_up else None,
                      None if redis_up else "Connection refused"),
    )


def test_five_named_panels_and_shortcuts(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    assert [window.sidebar.item(i).text() for i in range(window.sidebar.count())] == [p[0] for p in PANELS]
    assert [p[0] for p in PANELS] == ["Generate", "Agents", "Costs", "Rollout", "Settings"]
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_panel() == "Costs"
    qtbot.mouseClick(
        window.sidebar.viewport(), Qt.MouseButton.LeftButton,
        pos=window.sidebar.visualItemRect(window.sidebar.item(3)).center(),
    )
    assert window.current_panel() == "Rollout"
    assert window.stack.currentWidget() is window.panels["Rollout"]


def test_menus_and_settings_shortcut(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Help"]
    assert window.settings_action.shortcut().toString() == "Ctrl+,"
    with qtbot.waitSignal(window.settings_requested, timeout=1000):
        window.settings_action.trigger()


def test_status_bar_shows_up_and_down(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    assert window.postgres_indicator.state == "unknown"
    window.show_health(report())
    assert window.postgres_indicator.state == "up" and window.redis_indicator.state == "up"
    assert "/data/run" in window.postgres_indicator.text()
    assert "shared" in window.redis_indicator.text()
    window.show_health(report(redis_up=False))
    assert window.redis_indicator.state == "down"
    assert "Connection refused" in window.redis_indicator.toolTip()
    assert window.message.text() == "Lost Redis; work waits, retrying every 2 s…"
    window.show_health(report())
    assert window.message.text() == "Reconnected"


def test_status_bar_shows_a_server_being_restarted(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    down = report(pg_up=False)
    down = HealthReport(replace(down.postgres, supervision="restarting (attempt 2)"), down.redis)
    window.show_health(down)
    assert window.postgres_indicator.state == "restarting"
    assert "restarting" in window.postgres_indicator.text()
    assert "restarting (attempt 2)" in window.postgres_indicator.toolTip()
    assert window.message.text() == "Lost PostgreSQL; restarting it, work waits…"
    back = report()
    window.show_health(HealthReport(replace(back.postgres, supervision="up (restarted 1×)"), back.redis))
    assert window.postgres_indicator.state == "up" and "restarted 1×" in window.postgres_indicator.toolTip()


async def test_status_bar_shows_real_server_health(qtbot: QtBot, servers: Endpoints, data_dir: Path) -> None:
    core = AppCore(make_config(data_dir, postgres_url=servers.postgres_url, redis_streams_url=servers.redis_url),
                   serve_api=False, agent_types=[])
    await core.start()
    try:
        # No make_window here: its qtbot.waitUntil would nest a Qt event loop inside this
        # qasync-run test, and that stops the asyncio loop.
        window = MainWindow()
        qtbot.addWidget(window)
        window.show_health(await core.health())
    finally:
        await core.shutdown()
    assert window.postgres_indicator.state == "up"
    # The bar shows the end of the path, the tooltip the whole (a cut "/tmp/tmp.TE9v6CbUIG/run_" said nothing).
    assert servers.postgres_where in window.postgres_indicator.toolTip()
    assert servers.redis_where in window.redis_indicator.toolTip()
    assert "…/run/pg" in window.postgres_indicator.text()


def test_close_emits_closing_and_remembers_panel(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.select_panel("Settings")
    with qtbot.waitSignal(window.closing, timeout=1000):
        window.close()
    assert QSettings().value("main_window/panel") == "Settings"
    again = make_window(qtbot)
    assert again.current_panel() == "Settings"


def test_copy_api_token_puts_the_token_on_the_clipboard(qtbot: QtBot, data_dir: Path) -> None:
    from app.api_token import read_token
    from app.control import ControlCenter
    from ui.gui_app import _copy_api_token

    window = make_window(qtbot)
    control = ControlCenter(AppCore(make_config(data_dir)))  # not started: no API served
    window.api_token_requested.connect(lambda: _copy_api_token(window, control))
    with qtbot.waitSignal(window.api_token_requested, timeout=1000):
        window.copy_token_action.trigger()
    token = read_token(data_dir)
    assert token and QApplication.clipboard().text() == token
    assert "not served" in window.message.text()


def test_the_sandbox_indicator_says_isolated_refused_or_allowed_without(qtbot: QtBot) -> None:
    from engine.isolation import Isolation

    window = make_window(qtbot)
    indicator = window.sandbox_indicator
    isolated = Isolation(True, "/usr/bin/bwrap", "pid, network and mount namespaces", "cgroup v1 (memory, pids)")
    missing = Isolation(False, None, "bwrap is not installed (apt-get install bubblewrap)", "rlimits")
    window.show_health(HealthReport(report().postgres, report().redis, isolated))
    assert indicator.state == "up" and "cgroup v1" in indicator.toolTip()
    window.show_health(HealthReport(report().postgres, report().redis, missing))
    assert indicator.state == "down" and "code refused" in indicator.text()
    assert "apt-get install bubblewrap" in indicator.toolTip()
    window.show_health(HealthReport(report().postgres, report().redis, missing, allow_unisolated=True))
    assert indicator.state == "unisolated" and "NOT isolated" in indicator.text()


def test_firing_alerts_badge_their_panel_and_notify_once(qtbot: QtBot) -> None:
    from app.alerts import RULES, Alert

    window = make_window(qtbot)
    by_name = {r.name: r for r in RULES}
    cost = Alert(by_name["Daily cost"], 250.0, "firing")
    fallback = Alert(by_name["Phase 2 fallback rate"], 0.4, "firing")
    quiet = Alert(by_name["Agent availability"], 1.0, "ok")
    window.show_alerts([cost, fallback, quiet], started=[cost, fallback])
    assert window.panel_badge("Costs") == "Costs   ● 1"
    assert window.panel_badge("Rollout") == "Rollout   ● 1"
    assert window.panel_badge("Agents") == "Agents"
    costs_item = window.sidebar.item([n for n, _ in PANELS].index("Costs"))
    assert "Daily cost is $250.00 (alert above $200" in costs_item.toolTip()
    assert [title for title, _ in window.notifier.sent] == ["Alert: Daily cost", "Alert: Phase 2 fallback rate"]
    # The next round: still firing, nothing new started: no second notification. Then it resolves.
    window.show_alerts([cost, fallback, quiet], started=[])
    assert len(window.notifier.sent) == 2
    window.show_alerts([replace(cost, value=50.0, state="ok"), fallback, quiet], started=[])
    assert window.panel_badge("Costs") == "Costs"
    if window.notifier.tray is None:  # offscreen: no tray, so the status bar says it
        assert "Phase 2 fallback rate" in window.message.text()


def test_messages_stay_in_a_log_and_a_warning_holds_the_status_line(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.show_status_error("Port 8000 is taken; the REST API is not served by this window")
    window.show_progress("Settings saved")  # routine: logged, but does not push the warning away
    assert "Port 8000 is taken" in window.message.text()
    assert window.message.toolTip() == "Port 8000 is taken; the REST API is not served by this window"
    assert window.message_log.texts()[-2:] == ["Port 8000 is taken; the REST API is not served by this window",
                                               "Settings saved"]
    assert window.message_log.list.item(0).text().endswith("info: Settings saved")  # newest first
    assert not window.message_log.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.message_log.isVisible() and window.messages_button.isChecked()
    window._warning_until = 0  # the hold is over: the next routine message shows
    window.show_progress("Ready")
    assert window.message.text() == "Ready"
