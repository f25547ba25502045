"""The one verdict on a request: completed, partial or failed, with a reason a person can act on."""

from __future__ import annotations

import pytest

from app.outcome import FINISHED_SQL, of_state
from engine.tool_text import clean

PYNGUIN_NOISE = ("\x1b[31m╭──────── Traceback ────────╮\x1b[0m\n│ ModuleNotFoundError: No module named "
                 "'dateutil' │\n╰───────────────────────────╯")


def test_a_run_that_kept_no_test_is_a_failure_with_the_reason() -> None:
    state = {"status": "completed", "result": {"test_count": 0, "coverage_estimate": 0.0,
                                                "failures": [f"Pynguin produced no tests ({PYNGUIN_NOISE})"]}}
    verdict = of_state(state)
    assert verdict.kind == "failed" and verdict.exit_code == 1
    assert verdict.reason == ("no test was kept: Pynguin produced no tests ( Traceback ModuleNotFoundError: "
                              "No module named 'dateutil' )")


@pytest.mark.parametrize("result, kind, code", [
    ({"test_count": 4, "outcome": "complete", "reason": "target 85% reached"}, "completed", 0),
    ({"test_count": 4, "outcome": "partial", "reason": "below the target"}, "partial", 3),
    ({"test_count": 0, "outcome": "met", "reason": "the existing tests already cover 99%"}, "completed", 0),
])
def test_verdicts_and_exit_codes(result: dict, kind: str, code: int) -> None:
    verdict = of_state({"status": "completed", "result": result})
    assert (verdict.kind, verdict.exit_code) == (kind, code)
    assert verdict.reason == result["reason"]


def test_failed_and_running_states() -> None:
    assert of_state({"status": "failed", "error": "cancelled by the user"}).headline() == "Failed: cancelled by the user"
    assert of_state({"status": "in_progress"}).kind == "running"


def test_clean_leaves_plain_text_alone_and_cuts_long_text() -> None:
    assert clean("exit 1: no module") == "exit 1: no module"
    assert clean("x" * 1000, 50).endswith("…") and len(clean("x" * 1000, 50)) == 50


async def test_the_sql_verdict_matches(pool) -> None:
    rows = [("p2-none", "completed", {"test_count": 0}), ("p2-part", "completed", {"test_count": 3, "outcome": "partial"}),
            ("p2-ok", "completed", {"test_count": 3, "outcome": "complete"}), ("p2-met", "completed", {"outcome": "met"}),
            ("p2-err", "failed", None), ("p2-run", "in_progress", None)]
    for request_id, status, result in rows:
        await pool.execute(
            "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
            "reason, request, status, phase2_result) VALUES ($1, 'phase2', 'off', 0, 1, 'k', 'r', '{}', $2, $3)",
            request_id, status, result)
    got = {r["request_id"]: r["verdict"] for r in await pool.fetch(f"SELECT request_id, verdict FROM ({FINISHED_SQL}) f")}
    assert got == {"p2-none": "failed", "p2-part": "partial", "p2-ok": "completed", "p2-met": "completed",
                   "p2-err": "failed", "p2-run": "running"}
    for request_id, status, result in rows:  # the Python verdict says the same
        state = {"status": status, "result": result, "error": "boom"}
        assert of_state(state).kind == got[request_id]
