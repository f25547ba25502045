"""The status bar's pieces fit the default window: short places, elided messages, whole text in tooltips."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from app.health import ServiceHealth
from ui.status_bar import ElidedLabel, ServiceIndicator, short_where


def test_a_long_server_path_keeps_its_last_two_parts() -> None:
    assert short_where("/tmp/tmp.TE9v6CbUIG/run_d/pg.sock") == "…/run_d/pg.sock"
    assert short_where("127.0.0.1:6379") == "127.0.0.1:6379"


def test_the_indicator_shows_a_short_place_and_tooltips_the_whole(qtbot) -> None:
    indicator = ServiceIndicator("postgres")
    qtbot.addWidget(indicator)
    where = "/tmp/tmp.TE9v6CbUIG/data/run/postgres"
    indicator.show_health(ServiceHealth(name="postgres", up=True, latency_ms=1.2, mode="embedded", where=where))
    assert "…/run/postgres" in indicator.text() and "TE9v6CbUIG" not in indicator.text()
    assert where in indicator.toolTip()


def test_a_long_message_is_elided_in_the_bar_with_the_whole_in_its_tooltip(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    label = ElidedLabel()
    window.statusBar().addWidget(label, 1)
    window.resize(400, 200)
    window.show()
    text = "Alert: Error rate: Error rate is 100.0% (alert above 5%; target below 1%) " * 3
    label.show_text(text, "#d64545")
    qtbot.wait(50)
    # A QLabel asks the bar for its whole text's width (1,335 px here), and a real window grows to it.
    assert window.statusBar().layout().minimumSize().width() < 400
    assert label.toolTip() == text and label.text() == text
