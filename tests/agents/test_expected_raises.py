"""Search's bare ``xfail(strict=True)`` tests become ``pytest.raises(<what they raise>)`` (agents/expected_raises.py)."""

from __future__ import annotations

from pathlib import Path

from agents.expected_raises import with_expected_raises
from tests.helpers.generated_samples import TEXTBOX_MODULE
from tests.helpers.sandbox_phase2 import SandboxPhase2

# As Pynguin writes a test whose last call raised (the sample repository's safe_div, given lambdas).
MARKED = ("import pytest\nimport textbox as module_0\n\n\n"
          "@pytest.mark.xfail(strict=True)\ndef test_case_0():\n    var_0 = 3\n"
          "    module_0.label(text=var_0, width=var_0)\n\n\n"
          "@pytest.mark.xfail(strict=True)\ndef test_case_1():\n    assert module_0.label(text='ab') == 'nope'\n\n\n"
          "def test_case_2():\n    assert module_0.label(text='ab') == 'ab'\n")


async def test_a_marked_test_that_raised_expects_that_exception_and_a_failing_assertion_does_not(
        tmp_path: Path) -> None:
    (tmp_path / "textbox.py").write_text(TEXTBOX_MODULE)
    phase2 = SandboxPhase2()
    code, run, raised = await with_expected_raises(phase2, MARKED, tmp_path, "textbox.py")
    assert phase2.runs == 1
    assert raised == {"test_case_0": "ValueError"}  # width 3 < 4: ValueError; an assert failing is no raise
    assert "with pytest.raises(ValueError):\n        module_0.label(text=var_0, width=var_0)" in code
    assert "xfail" not in code  # test_case_1 lost its mark too: it fails, and the caller cuts it
    outcomes = {o["name"]: o["outcome"] for o in run["tests"]}
    assert outcomes == {"test_case_0": "failed", "test_case_1": "failed", "test_case_2": "passed"}
    again = await phase2.execute(code, tmp_path, ["textbox.py"])
    assert {o["name"]: o["outcome"] for o in again["tests"]}["test_case_0"] == "passed"
