"""A distilled file laid out: each field check made once in the file."""

from __future__ import annotations

import ast

from agents.generation.distil import Distilled
from agents.generation.test_layout import Laid, lay_out
from agents.generation.test_units import parse_file


def _test(name: str, code: str) -> Laid:
    return Laid(Distilled(name, ast.parse(code).body, function="timer"), [0])


def test_a_field_check_the_file_already_made_is_not_made_again_but_a_last_or_only_check_stays() -> None:
    """codetiming 1.4.0: Pynguin asserted every field of each new Timer, in every test that made one."""
    parts = parse_file("from codetiming import _timer\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    fields = "assert timer.name is None\nassert timer.text == 'Elapsed time: {:0.4f} seconds'\n"
    tests = [_test("test_timer_a", f"timer = _timer.Timer()\n{fields}timer.start()\n"),
             _test("test_timer_b", f"timer = _timer.Timer(name='x')\n{fields}assert timer.stop() > 0\n"),
             _test("test_timer_c", "timer = _timer.Timer()\nassert timer.name is None\n")]
    code, _ = lay_out(parts, "", tests)
    b = code.split("def test_timer_b():\n", 1)[1].split("\n\n\n", 1)[0]
    assert b == "    timer = _timer.Timer(name='x')\n    assert timer.stop() > 0", b
    assert code.count("assert timer.name is None") == 2  # the first test's, and test_c's only check
    assert "timer.start()" in code
