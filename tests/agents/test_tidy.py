"""The readability pass over search output, on a file shaped like Pynguin 0.48's."""

import ast

from agents.generation.tidy import exception_of, expect_raises, tidy, unmark_xfails

PYNGUIN_OUTPUT = '''import pytest
import sys
import inflection

inflection_ = sys.modules["inflection"]


def test_case_0():
    var_0 = ""
    assert var_0 == ""
    var_1 = inflection_.pluralize(var_0)
    assert var_1 == ""
    assert inflection_.PLURALS == [("(quiz)$", "\\\\1zes"), ("$", "s")]
    assert f"{type(inflection_.UNCOUNTABLES).__module__}.{type(inflection_.UNCOUNTABLES).__qualname__}" == "builtins.set"


@pytest.mark.xfail(strict=True)
def test_case_1():
    var_0 = None
    var_1 = inflection_.camelize(var_0)


def test_case_2():
    var_0 = -3
    var_1 = inflection_.ordinal(var_0)
    assert var_1 == "rd"


def test_case_3():
    var_0 = -708.3473793323343
    assert var_0 == pytest.approx(-708.3473793323343, abs=0.01, rel=0.01)
    var_1 = inflection_.ordinal(var_0)
'''


def test_tautologies_and_constant_snapshots_go_and_real_assertions_stay() -> None:
    out = tidy(PYNGUIN_OUTPUT)
    assert 'assert var_0 == ""' not in out  # restated what was just assigned
    assert "approx(-708" not in out  # the same, with a float
    assert "PLURALS ==" not in out and "UNCOUNTABLES" not in out  # the module's own tables
    assert "assert var_1 == ''" in out  # the result of a call is a real check
    assert "assert var_1 == 'rd'" in out


def test_a_bare_strict_xfail_becomes_pytest_raises_around_the_raising_call() -> None:
    out = tidy(PYNGUIN_OUTPUT, raised={"test_case_1": "AttributeError"})
    assert "xfail" not in out
    tree = ast.parse(out)
    camelize = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and "camelize" in f.name)
    guard = camelize.body[-1]
    assert isinstance(guard, ast.With) and ast.unparse(guard.items[0].context_expr) == "pytest.raises(AttributeError)"
    assert "inflection_.camelize(var_0)" in ast.unparse(guard)


def test_tests_are_named_after_function_and_case_and_grouped() -> None:
    names = [f.name for f in ast.parse(tidy(PYNGUIN_OUTPUT)).body if isinstance(f, ast.FunctionDef)]
    assert names == ["test_camelize_none", "test_ordinal_negative", "test_ordinal_negative_2",
                     "test_pluralize_empty_string"]


def test_code_that_does_not_parse_is_left_alone() -> None:
    assert tidy("def test_(:\n") == "def test_(:\n"


def test_without_a_run_the_xfail_stays_for_the_run_to_resolve() -> None:
    out = tidy(PYNGUIN_OUTPUT)
    assert "@pytest.mark.xfail(strict=True)" in out


def test_the_exception_a_bare_run_raised_replaces_the_xfail() -> None:
    bare, marked = unmark_xfails(tidy(PYNGUIN_OUTPUT))
    assert marked == {"test_camelize_none"} and "xfail" not in bare
    out = expect_raises(bare, {"test_camelize_none": exception_of("AttributeError: 'NoneType' has no 'x'")})
    assert "with pytest.raises(AttributeError):\n        var_1 = inflection_.camelize(var_0)" in out


def test_only_a_raised_exception_counts_not_a_failed_assert() -> None:
    assert exception_of("ValueError: low > high") == "ValueError"
    assert exception_of("json.decoder.JSONDecodeError: Expecting value") == "Exception"  # not builtin: the base
    assert exception_of("AssertionError: assert 1 == 2") is None
    assert exception_of("assert 1 == 2") is None
    assert exception_of("") is None
