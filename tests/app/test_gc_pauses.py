"""Full collections measured, and what start-up made kept out of their walks."""

from __future__ import annotations

import gc

import pytest

from app.gc_pauses import GcPauses, freeze_startup


def test_a_full_collection_is_timed_and_a_young_one_is_told_apart() -> None:
    pauses = GcPauses()
    pauses.start()
    try:
        gc.collect(0)
        assert pauses.count == 0 and pauses.young_worst_ms >= 0
        gc.disable()  # no young collection frees them first
        for _ in range(2000):  # garbage only a collection frees: cycles
            cycle: list[object] = []
            cycle.append(cycle)
            del cycle
        gc.enable()
        gc.collect()
        gc.collect()
    finally:
        gc.enable()
        pauses.stop()
    gc.collect()  # stopped: no longer counted
    assert pauses.count == 2 and pauses.total_ms >= pauses.worst_ms > 0
    assert pauses.figures()["gc_full"] == 2
    assert pauses.collected >= 2000  # what it freed is counted: the cost a 125 ms collection had in the soak


def test_what_exists_at_start_up_is_frozen_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        kept = [[i] for i in range(1000)]  # objects alive for the whole session
        assert freeze_startup() >= len(kept)
        assert all(gc.is_tracked(k) for k in kept) and gc.get_freeze_count() >= len(kept)
        gc.unfreeze()
        monkeypatch.setenv("AIWEBTEST_GC_FREEZE", "0")
        assert freeze_startup() == 0 and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
