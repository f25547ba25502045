"""Tier 3's verdict: the model's word against the checks it ran (the agent loop runs in test_engine.py)."""

from engine.tier3 import failed_check


def check(selector: str, expected: str, ok: bool) -> dict:
    return {"tool": "assert_text", "args": {"selector": selector, "expected": expected}, "result": {"ok": ok}}


def test_a_check_that_failed_last_outweighs_the_models_word() -> None:
    steps = [{"tool": "goto", "args": {"url": "http://x/"}, "result": {"ok": True}}, check("#result", "Sent!", False)]
    assert failed_check(steps) == "its last check that #result shows 'Sent!' failed"


def test_a_check_retried_until_it_held_counts_as_held() -> None:
    steps = [check("#result", "Sent!", False), {"tool": "click", "args": {}, "result": {"ok": True}},
             check("#result", "Sent!", True), check("h1", "Contact", True)]
    assert failed_check(steps) is None


def test_no_checks_leave_the_verdict_to_the_model() -> None:
    assert failed_check([{"tool": "read", "args": {"selector": "body"}, "result": {"ok": True}}]) is None
