"""One check per value, on statements as Pynguin asserted them (codetiming 1.4.0, semver 3.1.1)."""

from __future__ import annotations

import ast

from agents.generation.checks import fewer_checks, once


def _code(body: list[ast.stmt]) -> str:
    return "\n".join(ast.unparse(s) for s in body)


def test_field_checks_before_the_calls_that_change_the_object_go_and_the_final_ones_stay() -> None:
    body = ast.parse("timer = _timer.Timer()\nassert isinstance(timer, _timer.Timer)\nassert timer.name is None\n"
                     "timer.start()\nassert timer.stop() == 1\n").body
    assert _code(fewer_checks(body)) == "timer = _timer.Timer()\ntimer.start()\nassert timer.stop() == 1"
    # A test that ends in a call, not a check, keeps what it checked: those checks are the test.
    ends_in_a_call = ast.parse("timer = _timer.Timer()\nassert timer.name is None\ntimer.start()\n").body
    assert _code(fewer_checks(ends_in_a_call)) == _code(ends_in_a_call)


def test_isinstance_beside_an_equality_goes_and_an_assertion_made_twice_is_made_once() -> None:
    body = ast.parse("v = f()\nassert isinstance(v, Version)\nassert v == Version(major=1)\n").body
    assert _code(fewer_checks(body)) == "v = f()\nassert v == Version(major=1)"
    twice = ast.parse("assert f() == 1\nassert f() == 1\ng()\n").body
    assert _code(once(twice)) == "assert f() == 1\ng()"


def test_a_type_check_of_an_object_made_by_its_own_class_goes_beside_another_check_and_stays_alone() -> None:
    """Pynguin writes ``isinstance`` after every constructor: true by construction."""
    body = ast.parse("email = validate.Email()\nassert isinstance(email, validate.Email)\n"
                     "assert type(email).__qualname__ == 'Email'\nassert email.error == 'Not valid.'\n").body
    assert [ast.unparse(s) for s in fewer_checks(body)] == ["email = validate.Email()",
                                                           "assert email.error == 'Not valid.'"]
    alone = ast.parse("email = validate.Email()\nassert isinstance(email, validate.Email)\n").body
    assert len(fewer_checks(alone)) == 2  # the only check: without it the test checks nothing
    other = ast.parse("url = validate.URL()\nassert isinstance(url, validate.Email)\nassert url.error == 'x'\n").body
    assert len(fewer_checks(other)) == 3  # another class than the one called: a fact of its own
