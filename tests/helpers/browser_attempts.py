"""Attempts a loaded machine adds to a browser test's execution: runs whose Chromium did not start.

The engine records such a run as an attempt and makes it again (engine/engine.py ``_started``): the machine's
failure, not the test's. A test asserting the tiers' story leaves them out, as the engine's own rule tells them.
"""

from __future__ import annotations

from typing import Any

from engine.pytest_run import browser_did_not_start


def did_not_start(attempt: dict[str, Any]) -> bool:
    """The engine's own rule, read from a recorded attempt (which does not record whether the browser started:
    a timed-out attempt counts as one whose browser did not)."""
    return browser_did_not_start(attempt["status"], attempt.get("message") or "", browser_started=False)


def the_tiers_story(attempts: list[dict[str, Any]]) -> list[tuple[int, str, str | None]]:
    """(tier, status, backend) of each attempt, without the runs whose browser did not start."""
    return [(a["tier"], a["status"], a.get("backend")) for a in attempts if not did_not_start(a)]
