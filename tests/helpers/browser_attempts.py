"""Attempts a loaded machine adds to a browser test's execution: runs whose Chromium did not start.

The engine records such a run as an attempt and makes it again (engine/engine.py ``_started``): the machine's
failure, not the test's. A test asserting the tiers' story leaves them out, as the engine's own rule tells them.
"""

from __future__ import annotations

from typing import Any


def did_not_start(attempt: dict[str, Any]) -> bool:
    """The same rule as engine/pytest_run.py ``RunResult.browser_did_not_start``, read from a recorded attempt."""
    message = attempt.get("message") or ""
    return attempt["status"] == "timeout" or (
        attempt["status"] == "error" and "failed on setup" in message and "playwright" in message.lower())


def the_tiers_story(attempts: list[dict[str, Any]]) -> list[tuple[int, str, str | None]]:
    """(tier, status, backend) of each attempt, without the runs whose browser did not start."""
    return [(a["tier"], a["status"], a.get("backend")) for a in attempts if not did_not_start(a)]
