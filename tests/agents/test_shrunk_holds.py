"""A shrunk unit stands only if it raises what it raised and the generator's kept checks still hold."""

from __future__ import annotations

import ast

from agents.generation.observe import Observed, Seen
from agents.generation.shrunk_holds import checks_hold, same_errors
from agents.generation.test_units import Unit

UNIT = Unit("test_case_0", ast.parse(
    "var_0 = m.Range(max_inclusive=True)\n"
    "assert var_0.message == 'at most'\n"  # kept as written: it does not check the value seen for var_0
    "assert var_0 is not None\n").body)


def _seen(**held: bool | None) -> Observed:
    return Observed(True, {"0": Seen(returned=True, type="Range", module="m"),
                           **{key.removeprefix("a"): Seen(held=value) for key, value in held.items()}})


def test_a_check_that_held_must_still_hold_and_one_that_did_not_is_no_concern() -> None:
    assert checks_hold(_seen(a1=True, a2=True), _seen(a1=True, a2=True), UNIT)
    assert not checks_hold(_seen(a1=True, a2=True), _seen(a1=False, a2=True), UNIT)
    assert checks_hold(_seen(a1=False, a2=True), _seen(a1=False, a2=True), UNIT)  # it failed before too
    assert checks_hold(None, _seen(a1=False), UNIT)  # nothing observed before: nothing to keep


def test_a_caught_error_must_say_the_same_words() -> None:
    before = Observed(True, {"0": Seen(message="Unclosed array")})
    assert same_errors(before, Observed(True, {"0": Seen(message="Unclosed array")}))
    assert not same_errors(before, Observed(True, {"0": Seen(message="Invalid value")}))
