"""Texts a module's own pattern accepts, read from the pattern's parse tree."""

from __future__ import annotations

import re

import pytest

from agents.generation.regex_example import example_for, examples_for

ISO_PERIOD = (r"^(?P<sign>[+-])?P(?!\b)(?P<years>[0-9]+([,.][0-9]+)?Y)?(?P<months>[0-9]+([,.][0-9]+)?M)?"
              r"(?P<weeks>[0-9]+([,.][0-9]+)?W)?(?P<days>[0-9]+([,.][0-9]+)?D)?"
              r"((?P<separator>T)(?P<hours>[0-9]+([,.][0-9]+)?H)?(?P<minutes>[0-9]+([,.][0-9]+)?M)?"
              r"(?P<seconds>[0-9]+([,.][0-9]+)?S)?)?$")


@pytest.mark.parametrize("pattern, expected", [
    (ISO_PERIOD, "+P1Y1M1W1DT1H1M1S"),  # each named part once, the decimals inside them not
    (r"[^a-z]+x", "1x"),
    (r"(\d{4})-(\d\d)-\1", "1111-11-1111"),
    (r"[\w.]+@\w+\.com", "a@a.com"),
    (r"(a|b)*c", "ac"),
])
def test_the_example_is_accepted_by_its_pattern(pattern: str, expected: str) -> None:
    assert example_for(pattern) == expected
    assert re.search(pattern, expected)


def test_each_optional_part_alone_gives_another_example() -> None:
    assert examples_for(ISO_PERIOD) == ["+P1Y1M1W1DT1H1M1S", "+P", "P1Y", "P1M", "P1W", "P1D", "PT1H1M1S"]


@pytest.mark.parametrize("pattern", ["(", "x" * 3000, r"(?P<a>x)(?(a)y|z)", 42, "(" * 30 + "a{9}" + "){9}" * 30])
def test_a_pattern_it_cannot_read_gives_no_example(pattern: object) -> None:
    assert example_for(pattern) is None  # type: ignore[arg-type]
