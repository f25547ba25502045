"""The sandbox probe's answer is kept: a yes for the process's life, a no for 30 s (bubblewrap installed later)."""

import pytest

from engine import isolation


def test_a_working_sandbox_is_probed_once_and_a_missing_one_again_after_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []
    answers = [isolation.Isolation(False, None, "bwrap is not installed", "rlimits"),
               isolation.Isolation(True, "/usr/bin/bwrap", "namespaces", "rlimits")]
    now = [1000.0]
    monkeypatch.setattr(isolation, "_last", None)
    monkeypatch.setattr(isolation, "_probe", lambda: runs.append("bwrap") or answers[len(runs) - 1])
    monkeypatch.setattr(isolation.time, "monotonic", lambda: now[0])

    assert isolation.known() is None  # nothing probed yet: health would probe in a thread
    assert not isolation.probe().available and runs == ["bwrap"]
    assert isolation.known() is not None and not isolation.probe().available and runs == ["bwrap"]  # kept
    now[0] += isolation.RETRY_FAILED_S + 1  # meanwhile the user installs bubblewrap
    assert isolation.known() is None
    assert isolation.probe().available and runs == ["bwrap", "bwrap"]
    now[0] += 10 * isolation.RETRY_FAILED_S
    assert isolation.known().available and runs == ["bwrap", "bwrap"]  # a yes stays
