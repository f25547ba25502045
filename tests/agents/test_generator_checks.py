"""Which of a generator's assertions distillation writes again, and which a shrunk unit must still satisfy."""

from __future__ import annotations

import ast

from agents.generation.generator_checks import kept_as_written
from agents.generation.observe import Seen, attribute_key

_LONG = "x, " * 40


def test_a_long_check_of_a_stored_attribute_is_written_again_a_short_one_and_a_bare_check_are_kept() -> None:
    body = ast.parse(f"var_0 = m.NoneOf('{'x' * 41}')\n"
                     "assert var_0.message == 'at most'\n"
                     f"assert var_0.values_text == '{_LONG}'\n"
                     "assert m.ready\n").body
    seen = {"0": Seen(returned=True, type="NoneOf"),
            attribute_key(1): Seen(returned=True, repr="'at most'"),
            attribute_key(2): Seen(returned=True, repr="'x'")}
    assert kept_as_written(body, seen) == [1, 3]
    del seen[attribute_key(2)]  # not recorded (the record was unreadable): kept as the generator wrote it
    assert kept_as_written(body, seen) == [1, 2, 3]


def test_a_check_of_a_calls_result_seen_as_a_value_is_written_again() -> None:
    body = ast.parse("var_0 = m.size('abc')\nassert var_0 == 3\n").body
    assert kept_as_written(body, {"0": Seen(returned=True, repr="3", type="int")}) == []
    assert kept_as_written(body, {"0": Seen(returned=True, type="Sized")}) == [1]  # no value to write it from
