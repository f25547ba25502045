"""The soak's stall watcher tells work on the loop, a blocking call and an idle loop apart (issue 28)."""

import selectors
import time

from bench.stall_watch import StallWatch


def _stall(kind: str) -> None:
    if kind == "cpu":
        started = time.perf_counter()
        while time.perf_counter() - started < 0.4:
            pass
    elif kind == "wait":
        time.sleep(0.4)
    else:
        selectors.DefaultSelector().select(0.4)  # an event loop waiting for events


def test_each_stall_is_named_with_its_length_and_kind() -> None:
    watch = StallWatch(threshold_ms=100)
    watch.start()
    try:
        for kind in ("cpu", "wait", "idle"):
            watch.beat()
            _stall(kind)
            watch.beat()
            time.sleep(0.05)  # the watcher closes the stall
    finally:
        watch.stop()
    stalls = watch.take()
    assert [s.kind for s in stalls] == ["blocking (cpu)", "blocking (wait)", "starved"]
    assert all(390 <= s.length_ms < 1500 for s in stalls), stalls
    assert "_stall" in stalls[0].where and "test_stall_watch.py" in stalls[0].stack
    assert "sleep" in stalls[1].stack
    assert watch.take() == []  # taken once
