"""What a request's failures say to a person (agents/failure_text.py)."""

from __future__ import annotations

from agents.failure_text import actionable, same_failure


def test_a_failure_differing_only_in_numbers_is_the_same_and_another_is_not() -> None:
    earlier = ["pynguin seed 1001: exit status 3 after 12 s"]
    assert same_failure("pynguin seed 1002: exit status 3 after 40 s", earlier)
    assert not same_failure("pynguin seed 1002: timed out", earlier)


def test_a_missing_module_is_what_the_person_is_told_even_when_it_came_first() -> None:
    failures = ["No module named 'dateutil'", "the kept tests covered nothing new"]
    assert actionable(failures).startswith("No module named dateutil: declare it in the repository's pyproject")
    assert actionable(["timed out", "the kept tests covered nothing new"]) == "the kept tests covered nothing new"
    assert actionable([]) == "the generators produced nothing"
