"""The soak's frame clock reports a frozen GUI loop as a stall of its length (issue 28)."""

import time

from PySide6.QtCore import QTimer

from bench.stall_watch import StallWatch
from bench.tick_meter import TickMeter


def test_a_loop_frozen_for_2_s_is_reported_as_a_2_s_stall(qtbot) -> None:
    """The soak's own wiring: a 5 ms QTimer ticks the meter and the watcher; one callback holds the loop 2 s."""
    meter, watch = TickMeter(5), StallWatch(threshold_ms=100)
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: (meter.tick(), watch.beat()))
    watch.start()
    timer.start()
    try:
        QTimer.singleShot(300, lambda: time.sleep(2.0))  # the freeze, on the loop
        qtbot.wait(2800)
    finally:
        timer.stop()
        watch.stop()
    minute = meter.minute()
    assert 2000 <= minute.worst_gap_ms < 2600, minute.worst_gap_ms
    assert minute.ticks > 50  # the loop ticked before and after
    stalls = watch.take()
    assert any(1900 <= s.length_ms < 2600 and s.kind == "blocking (wait)" for s in stalls), stalls


def test_a_window_with_no_tick_at_all_is_a_gap_as_long_as_the_window() -> None:
    meter = TickMeter(5)
    meter.minute()
    time.sleep(0.5)  # nothing ticks: a loop frozen for the whole window
    minute = meter.minute()
    assert minute.ticks == 0 and minute.worst_gap_ms >= 500
